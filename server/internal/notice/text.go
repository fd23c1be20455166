package notice

import (
	"fmt"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// wording is the notice's own text in one language. The legal statements
// (SPEC §4 item 19) live in sections; notice_test.go checks each of them.
type wording struct {
	title, session, persistent                    string
	basisNecessary, basisConsent                  string
	notStated, noThirdParty, noTransfer, transfer string
	types, parties                                map[string]string
	ui                                            UI
	sections                                      func(d *Document, c *siteconfig.Config) []Section
}

// UI holds the labels of the page around the text.
type UI struct {
	Skip, Language, Contents, Version, Effective, Necessary, WithConsent, Why string
	ColName, ColType, ColProvider, ColPurpose, ColLifetime, ColTransfer       string
	Collects, Access, Justification, Party, Domain                            string
	Change, ConsentID, ChosenOn, NoItems, Earlier, NoEarlier, Print, NoScript string
	CtrlName, CtrlOrg, CtrlAddress, CtrlEmail, CtrlPhone, CtrlDPO, CtrlPolicy string
}

var browsers = map[string][]Link{
	"sv": {
		{"Google Chrome", "https://support.google.com/chrome/answer/95647?hl=sv"},
		{"Mozilla Firefox", "https://support.mozilla.org/sv/kb/clear-cookies-and-site-data-firefox"},
		{"Microsoft Edge", "https://support.microsoft.com/sv-se/microsoft-edge/delete-cookies-in-microsoft-edge-63947406-40ac-c3b8-57b9-2a946a29ae09"},
		{"Safari på Mac", "https://support.apple.com/sv-se/guide/safari/sfri11471/mac"},
		{"Safari på iPhone och iPad", "https://support.apple.com/sv-se/105082"},
	},
	"en": {
		{"Google Chrome", "https://support.google.com/chrome/answer/95647?hl=en"},
		{"Mozilla Firefox", "https://support.mozilla.org/en-US/kb/clear-cookies-and-site-data-firefox"},
		{"Microsoft Edge", "https://support.microsoft.com/en-us/microsoft-edge/delete-cookies-in-microsoft-edge-63947406-40ac-c3b8-57b9-2a946a29ae09"},
		{"Safari on Mac", "https://support.apple.com/en-us/guide/safari/sfri11471/mac"},
		{"Safari on iPhone and iPad", "https://support.apple.com/en-us/105082"},
	},
}

var text = map[string]*wording{
	"sv": {
		title:          "Cookiepolicy för %s",
		session:        "sessionen",
		persistent:     "tills du raderar den",
		basisNecessary: "Kräver inte samtycke: undantaget i 9 kap. 28 § andra stycket lagen (2022:482) om elektronisk kommunikation.",
		basisConsent:   "Används bara med ditt samtycke (9 kap. 28 § första stycket lagen (2022:482) om elektronisk kommunikation; artikel 6.1 a och artikel 7 GDPR).",
		notStated:      "inte angivet",
		noThirdParty:   "Ingen tredje part har angetts.",
		noTransfer:     "Nej",
		transfer:       "Ja, till %s. Skyddsåtgärd: %s.",
		types: map[string]string{"cookie": "Cookie", "local_storage": "Lokal lagring (localStorage)",
			"session_storage": "Sessionslagring (sessionStorage)", "indexeddb": "Databas i webbläsaren (IndexedDB)", "pixel": "Spårningspixel"},
		parties: map[string]string{"first": "Förstapart", "third": "Tredjepart"},
		ui: UI{Skip: "Hoppa till innehållet", Language: "Språk", Contents: "Innehåll", Version: "Version", Effective: "gäller från", Necessary: "Nödvändiga – kräver inte samtycke",
			WithConsent: "Kräver ditt samtycke", Why: "Varför de inte kräver samtycke",
			ColName: "Namn och typ", ColType: "Typ", ColProvider: "Leverantör", ColPurpose: "Ändamål och uppgifter",
			ColLifetime: "Lagringstid", ColTransfer: "Överföring till tredjeland",
			Collects: "Samlar in", Access: "Tredje parts åtkomst", Justification: "Varför nödvändig", Party: "Part", Domain: "Domän",
			Change: "Ändra eller återkalla ditt samtycke", ConsentID: "Ditt samtyckes-ID", ChosenOn: "valt",
			NoItems: "Inga cookies eller liknande tekniker i den här kategorin.", Earlier: "Tidigare versioner",
			NoEarlier: "Det finns inga tidigare versioner.", Print: "Skriv ut",
			NoScript: "Ditt samtyckes-ID visas i webbplatsens cookieinställningar.",
			CtrlName: "Namn", CtrlOrg: "Organisationsnummer", CtrlAddress: "Adress", CtrlEmail: "E-post", CtrlPhone: "Telefon",
			CtrlDPO: "Dataskyddsombud", CtrlPolicy: "Integritetspolicy"},
		sections: sectionsSV,
	},
	"en": {
		title:          "Cookie notice for %s",
		session:        "the session",
		persistent:     "until you delete it",
		basisNecessary: "No consent needed: the exemption in Chapter 9, Section 28, second paragraph of the Swedish Electronic Communications Act (2022:482).",
		basisConsent:   "Used only with your consent (Chapter 9, Section 28, first paragraph of the Swedish Electronic Communications Act (2022:482); Article 6(1)(a) and Article 7 GDPR).",
		notStated:      "not stated",
		noThirdParty:   "No third party stated.",
		noTransfer:     "No",
		transfer:       "Yes, to %s. Safeguard: %s.",
		types: map[string]string{"cookie": "Cookie", "local_storage": "Local storage (localStorage)",
			"session_storage": "Session storage (sessionStorage)", "indexeddb": "Browser database (IndexedDB)", "pixel": "Tracking pixel"},
		parties: map[string]string{"first": "First party", "third": "Third party"},
		ui: UI{Skip: "Skip to content", Language: "Language", Contents: "Contents", Version: "Version", Effective: "effective from", Necessary: "Necessary – no consent needed",
			WithConsent: "Needs your consent", Why: "Why they need no consent",
			ColName: "Name and type", ColType: "Type", ColProvider: "Provider", ColPurpose: "Purpose and data",
			ColLifetime: "Lifetime", ColTransfer: "Transfer outside the EU/EEA",
			Collects: "Collects", Access: "Third-party access", Justification: "Why necessary", Party: "Party", Domain: "Domain",
			Change: "Change or withdraw your consent", ConsentID: "Your consent ID", ChosenOn: "chosen",
			NoItems: "No cookies or similar technologies in this category.", Earlier: "Earlier versions",
			NoEarlier: "There are no earlier versions.", Print: "Print",
			NoScript: "Your consent ID is shown in the site's cookie settings.",
			CtrlName: "Name", CtrlOrg: "Organisation number", CtrlAddress: "Address", CtrlEmail: "Email", CtrlPhone: "Phone",
			CtrlDPO: "Data protection officer", CtrlPolicy: "Privacy policy"},
		sections: sectionsEN,
	},
}

func sectionsSV(d *Document, c *siteconfig.Config) []Section {
	ctrl := d.Controller.Name
	if d.Controller.OrgNumber != "" {
		ctrl += " (org.nr " + d.Controller.OrgNumber + ")"
	}
	tx := c.Texts["sv"]
	cookies := []string{
		"Här nedan finns alla cookies och liknande tekniker som webbplatsen använder, ordnade efter ändamål. För varje post anges namn, typ, leverantör, om den är en förstaparts- eller tredjepartspost, ändamål, vilka uppgifter den samlar in, vem utöver oss som kan ta del av uppgifterna, hur länge den finns kvar och om uppgifter överförs till ett land utanför EU/EES.",
		"Förstapart betyder att posten sätts och läses av den webbplats du besöker. Tredjepart betyder att den sätts eller läses av någon annan, till exempel en leverantör av statistik- eller annonstjänster, som då själv kan ta del av uppgifterna.",
	}
	if anyTransfer(d) {
		cookies = append(cookies, "När uppgifter överförs till ett land utanför EU/EES (tredjeland) sker det med stöd av den skyddsåtgärd som anges för posten, till exempel ett beslut av EU-kommissionen om adekvat skyddsnivå (artikel 45 GDPR), som EU–US Data Privacy Framework för mottagare som är certifierade enligt det, eller EU-kommissionens standardavtalsklausuler (artikel 46 GDPR).")
	}
	basis := []string{
		"Nödvändiga cookies och liknande tekniker använder vi utan att fråga om samtycke, eftersom de omfattas av undantaget i 9 kap. 28 § andra stycket lagen (2022:482) om elektronisk kommunikation: de behövs för att tillhandahålla en tjänst som du uttryckligen har begärt. För varje sådan post anges varför den är nödvändig.",
		"Alla andra cookies och liknande tekniker använder vi bara om du har samtyckt till den kategori de tillhör. Samtycket är då också den rättsliga grunden för behandlingen av personuppgifter (artikel 6.1 a GDPR) och uppfyller villkoren i artikel 7 GDPR. Inget är förvalt, du väljer fritt för varje kategori, och du kan använda webbplatsen även om du säger nej.",
		"Du kan när som helst återkalla ditt samtycke, och det ska vara lika enkelt som att lämna det (artikel 7.3 GDPR). Återkallelsen påverkar inte lagligheten i behandling som skedde innan du återkallade samtycket.",
	}
	if d.Controller.PrivacyPolicyURL != "" {
		basis = append(basis, "Hur vi i övrigt behandlar personuppgifter, och med vilken rättslig grund, beskriver vi i vår integritetspolicy.")
	}
	ctrlP := []string{fmt.Sprintf("%s är personuppgiftsansvarig för den behandling av personuppgifter som sker med hjälp av cookies och liknande tekniker på webbplatsen %s.", ctrl, d.SiteName)}
	if d.Controller.DPOEmail == "" {
		ctrlP = append(ctrlP, "Frågor om dataskydd besvaras via e-postadressen nedan.")
	} else {
		ctrlP = append(ctrlP, "Du kan också vända dig direkt till vårt dataskyddsombud.")
	}
	version := []string{fmt.Sprintf("Det här är version %d av cookiepolicyn för %s, i kraft från och med den %s. Vi publicerar en ny version när vi ändrar något i den och ber dig då att välja på nytt. Versionen identifieras av kontrollsumman SHA-256 %s.", d.Version, d.SiteName, d.EffectiveText, d.SHA256)}
	if len(d.EarlierVersions) > 0 {
		version = append(version, "Alla tidigare versioner finns kvar precis som de publicerades:")
	} else {
		version = append(version, "Det finns inga tidigare versioner.")
	}
	return []Section{
		{ID: "about", Title: "Om den här cookiepolicyn", Paragraphs: []string{
			fmt.Sprintf("Den här cookiepolicyn beskriver hur %s använder cookies och liknande tekniker, varför vi gör det och hur du själv bestämmer över det. Personuppgiftsansvarig är %s.", d.SiteName, ctrl),
			fmt.Sprintf("Version %d, gäller från och med den %s.", d.Version, d.EffectiveText),
		}},
		{ID: "what", Title: "Vad är cookies och liknande tekniker?", Paragraphs: []string{
			"En cookie (kaka) är en liten textfil som en webbplats sparar i din webbläsare och som skickas tillbaka till webbplatsen när du besöker den igen. En sessionscookie försvinner när du stänger webbläsaren; en varaktig cookie finns kvar tills den löper ut eller du raderar den.",
			"Liknande tekniker lagrar eller läser uppgifter i din utrustning på andra sätt: lokal lagring (localStorage) och sessionslagring (sessionStorage) i webbläsaren, databaser i webbläsaren (IndexedDB), spårningspixlar – små, ofta osynliga bilder eller anrop som talar om för en tredje part att du har öppnat en sida – och fingeravtryckstekniker (fingerprinting), där egenskaper hos din webbläsare och enhet läses av för att känna igen dig.",
			"Alla dessa tekniker omfattas av 9 kap. 28 § lagen (2022:482) om elektronisk kommunikation. Uppgifter får lagras i eller hämtas från din utrustning bara om du har fått information om ändamålet och samtycker till det. Undantagna är endast lagring och åtkomst som behövs för att överföra ett elektroniskt meddelande via ett elektroniskt kommunikationsnät och sådan som är nödvändig för att tillhandahålla en tjänst som du uttryckligen har begärt. Bestämmelsen ersatte den 3 juni 2022 den tidigare regeln i 6 kap. 18 § lagen (2003:389) om elektronisk kommunikation.",
			"När uppgifterna är personuppgifter gäller också dataskyddsförordningen (EU) 2016/679, GDPR. Ett samtycke ska vara frivilligt, specifikt, informerat och otvetydigt och lämnas genom en aktiv handling; en förkryssad ruta räcker inte, oavsett om uppgifterna är personuppgifter eller inte (EU-domstolens dom den 1 oktober 2019 i mål C-673/17, Planet49).",
		}},
		{ID: "cookies", Title: "Cookies och liknande tekniker som vi använder", Paragraphs: cookies},
		{ID: "legal-basis", Title: "Rättslig grund", Paragraphs: basis, Links: policyLink("Vår integritetspolicy", d)},
		{ID: "change-consent", Title: "Så ändrar eller återkallar du ditt samtycke", Paragraphs: []string{
			fmt.Sprintf("Du kan när som helst ändra eller återkalla ditt samtycke med knappen eller länken ”%s” som finns på varje sida av webbplatsen. Där kan du slå av eller på varje kategori för sig eller välja ”%s”. När du återkallar ett samtycke slutar vi använda de tekniker som samtycket gällde, och de förstapartscookies som hör till kategorin raderas.", tx.Withdraw, tx.RejectAll),
			fmt.Sprintf("Ditt val sparas i cookien samtycke i %s. Därefter frågar vi dig igen, och likaså när innehållet i den här policyn ändras. Ett nej sparas lika länge som ett ja.", d.Consent.LifetimeText),
			"Varje val har ett slumpmässigt samtyckes-ID som bara finns i din webbläsare och i vår samtyckeslogg. Ange det om du kontaktar oss om ditt samtycke, så kan vi visa exakt vad du valde och vilken version av policyn du såg.",
		}},
		{ID: "browser", Title: "Blockera och radera cookies i webbläsaren", Paragraphs: []string{
			"Du kan också blockera eller radera cookies och annan lagrad information i webbläsarens inställningar. Blockerar du alla cookies kan delar av webbplatsen sluta fungera, och raderar du cookien samtycke frågar vi om ditt val på nytt. Uppgifter som redan har samlats in raderas inte när du raderar cookies i webbläsaren; kontakta oss, eller den tredje part som anges ovan, för det.",
			"Så gör du i de vanligaste webbläsarna:",
		}, Links: browsers["sv"]},
		{ID: "controller", Title: "Personuppgiftsansvarig och kontakt", Paragraphs: ctrlP},
		{ID: "rights", Title: "Dina rättigheter och rätten att klaga", Paragraphs: []string{
			"Enligt GDPR har du rätt att få tillgång till de personuppgifter vi behandlar om dig (artikel 15), att få felaktiga uppgifter rättade (artikel 16), att få uppgifter raderade (artikel 17), att begära att behandlingen begränsas (artikel 18), att få ut uppgifter som du själv har lämnat i ett maskinläsbart format (dataportabilitet, artikel 20) och att invända mot behandling som grundar sig på en intresseavvägning (artikel 21). Du har också rätt att när som helst återkalla ditt samtycke (artikel 7.3).",
			fmt.Sprintf("Kontakta oss på %s för att använda dina rättigheter. Vi svarar utan onödigt dröjsmål och senast inom en månad; är begäran komplicerad kan tiden förlängas med högst två månader, och då meddelar vi dig det (artikel 12.3 GDPR).", d.Controller.Email),
			"Om du anser att vi behandlar dina personuppgifter i strid med reglerna har du rätt att lämna in ett klagomål till Integritetsskyddsmyndigheten (IMY), Box 8114, 104 20 Stockholm, imy.se. Post- och telestyrelsen (PTS), pts.se, har tillsyn över reglerna om cookies i lagen om elektronisk kommunikation.",
		}, Links: []Link{{"Integritetsskyddsmyndigheten (IMY)", "https://www.imy.se/"}, {"Post- och telestyrelsen (PTS)", "https://www.pts.se/"}}},
		{ID: "retention", Title: "Hur länge vi sparar uppgifter om ditt samtycke", Paragraphs: []string{
			"För att kunna visa att du har samtyckt (artikel 7.1 GDPR) sparar vi varje val du gör i en samtyckeslogg: samtyckes-ID, tidpunkt, vilken version av den här policyn du såg, ditt val för varje kategori, hur valet gjordes, om din webbläsare skickade signalen Global Privacy Control, vilken sida valet gjordes på (utan frågesträng), en förkortad IP-adress och en grov beskrivning av webbläsare och enhet. Loggen innehåller aldrig din fullständiga IP-adress.",
			fmt.Sprintf("Uppgifterna sparas i %s från det att valet gjordes och raderas därefter. Den rättsliga grunden är vår skyldighet att kunna visa att samtycke har lämnats (artikel 6.1 c jämförd med artikel 7.1 GDPR).", d.Consent.RetentionText),
		}},
		{ID: "version", Title: "Version och ändringar", Paragraphs: version},
	}
}

func sectionsEN(d *Document, c *siteconfig.Config) []Section {
	ctrl := d.Controller.Name
	if d.Controller.OrgNumber != "" {
		ctrl += " (org. no. " + d.Controller.OrgNumber + ")"
	}
	tx, ok := c.Texts[d.Lang]
	if !ok {
		tx = c.Texts["en"]
	}
	cookies := []string{
		"Below are all the cookies and similar technologies this site uses, grouped by purpose. For each one we state its name, type, provider, whether it is first or third party, its purpose, what data it collects, who other than us can access the data, how long it lasts, and whether data is transferred to a country outside the EU/EEA.",
		"First party means the item is set and read by the site you are visiting. Third party means it is set or read by someone else, for example a provider of statistics or advertising services, who can then access the data themselves.",
	}
	if anyTransfer(d) {
		cookies = append(cookies, "Where data is transferred to a country outside the EU/EEA (a third country), this relies on the safeguard stated for the item, for example an adequacy decision of the European Commission (Article 45 GDPR), such as the EU–US Data Privacy Framework for recipients certified under it, or the Commission's standard contractual clauses (Article 46 GDPR).")
	}
	basis := []string{
		"We use necessary cookies and similar technologies without asking for consent, because they fall under the exemption in Chapter 9, Section 28, second paragraph of the Swedish Electronic Communications Act (2022:482): they are needed to provide a service you have explicitly asked for. For each such item we state why it is necessary.",
		"We use all other cookies and similar technologies only if you have consented to the category they belong to. Your consent is then also the legal basis for processing personal data (Article 6(1)(a) GDPR) and meets the conditions of Article 7 GDPR. Nothing is pre-selected, you choose freely for each category, and you can use the site even if you say no.",
		"You can withdraw your consent at any time, and doing so is as easy as giving it (Article 7(3) GDPR). Withdrawal does not affect the lawfulness of processing before you withdrew.",
	}
	if d.Controller.PrivacyPolicyURL != "" {
		basis = append(basis, "How we otherwise process personal data, and on which legal basis, is described in our privacy policy.")
	}
	ctrlP := []string{fmt.Sprintf("%s is the controller of the personal data processed through cookies and similar technologies on %s.", ctrl, d.SiteName)}
	if d.Controller.DPOEmail == "" {
		ctrlP = append(ctrlP, "Questions about data protection are answered at the email address below.")
	} else {
		ctrlP = append(ctrlP, "You can also contact our data protection officer directly.")
	}
	version := []string{fmt.Sprintf("This is version %d of the cookie notice for %s, effective from %s. We publish a new version whenever we change anything in it, and then ask you to choose again. The version is identified by the SHA-256 checksum %s.", d.Version, d.SiteName, d.EffectiveText, d.SHA256)}
	if len(d.EarlierVersions) > 0 {
		version = append(version, "Every earlier version remains available exactly as it was published:")
	} else {
		version = append(version, "There are no earlier versions.")
	}
	return []Section{
		{ID: "about", Title: "About this cookie notice", Paragraphs: []string{
			fmt.Sprintf("This cookie notice explains how %s uses cookies and similar technologies, why, and how you decide about them. The controller is %s.", d.SiteName, ctrl),
			fmt.Sprintf("Version %d, effective from %s.", d.Version, d.EffectiveText),
		}},
		{ID: "what", Title: "What are cookies and similar technologies?", Paragraphs: []string{
			"A cookie is a small text file that a website stores in your browser and that is sent back to the site when you visit it again. A session cookie disappears when you close the browser; a persistent cookie remains until it expires or you delete it.",
			"Similar technologies store or read information on your device in other ways: local storage (localStorage) and session storage (sessionStorage) in the browser, browser databases (IndexedDB), tracking pixels – small, often invisible images or requests that tell a third party you have opened a page – and fingerprinting, where properties of your browser and device are read to recognise you.",
			"All of these technologies are covered by Chapter 9, Section 28 of the Swedish Electronic Communications Act (lagen (2022:482) om elektronisk kommunikation). Information may be stored on or read from your device only if you have been told the purpose and consent to it. The only exemptions are storage and access needed to transmit an electronic message over an electronic communications network and what is strictly necessary to provide a service you have explicitly asked for. The provision replaced the earlier rule in Chapter 6, Section 18 of the former Electronic Communications Act (2003:389) on 3 June 2022.",
			"Where the information is personal data, the General Data Protection Regulation (EU) 2016/679 (GDPR) also applies. Consent must be freely given, specific, informed and unambiguous, and given by a clear affirmative act; a pre-ticked box is not enough, whether or not the information is personal data (judgment of the Court of Justice of the EU of 1 October 2019 in case C-673/17, Planet49).",
		}},
		{ID: "cookies", Title: "Cookies and similar technologies we use", Paragraphs: cookies},
		{ID: "legal-basis", Title: "Legal basis", Paragraphs: basis, Links: policyLink("Our privacy policy", d)},
		{ID: "change-consent", Title: "How to change or withdraw your consent", Paragraphs: []string{
			fmt.Sprintf("You can change or withdraw your consent at any time with the “%s” button or link on every page of the site. There you can switch each category on or off, or choose “%s”. When you withdraw consent we stop using the technologies it covered, and the first-party cookies of that category are deleted.", tx.Withdraw, tx.RejectAll),
			fmt.Sprintf("Your choice is stored in the cookie samtycke for %s. After that we ask you again, and also whenever the content of this notice changes. A refusal is kept exactly as long as an acceptance.", d.Consent.LifetimeText),
			"Each choice has a random consent ID that exists only in your browser and in our consent log. Quote it if you contact us about your consent, and we can show exactly what you chose and which version of this notice you saw.",
		}},
		{ID: "browser", Title: "Blocking and deleting cookies in your browser", Paragraphs: []string{
			"You can also block or delete cookies and other stored information in your browser's settings. If you block all cookies, parts of the site may stop working, and if you delete the samtycke cookie we ask for your choice again. Deleting cookies in your browser does not delete information already collected; contact us, or the third party named above, for that.",
			"How to do it in the most common browsers:",
		}, Links: browsers["en"]},
		{ID: "controller", Title: "Controller and contact", Paragraphs: ctrlP},
		{ID: "rights", Title: "Your rights and the right to complain", Paragraphs: []string{
			"Under the GDPR you have the right to access the personal data we process about you (Article 15), to have inaccurate data rectified (Article 16), to have data erased (Article 17), to have processing restricted (Article 18), to receive data you have provided in a machine-readable format (data portability, Article 20) and to object to processing based on legitimate interests (Article 21). You also have the right to withdraw your consent at any time (Article 7(3)).",
			fmt.Sprintf("Contact us at %s to exercise your rights. We answer without undue delay and within one month at the latest; if the request is complex, this may be extended by at most two further months, and we will tell you so (Article 12(3) GDPR).", d.Controller.Email),
			"If you believe we process your personal data in breach of the rules, you have the right to lodge a complaint with the Swedish Authority for Privacy Protection (Integritetsskyddsmyndigheten, IMY), Box 8114, 104 20 Stockholm, Sweden, imy.se. The Swedish Post and Telecom Authority (PTS), pts.se, supervises the cookie rules of the Electronic Communications Act.",
		}, Links: []Link{{"Swedish Authority for Privacy Protection (IMY)", "https://www.imy.se/en/"}, {"Swedish Post and Telecom Authority (PTS)", "https://www.pts.se/en/"}}},
		{ID: "retention", Title: "How long we keep records of your consent", Paragraphs: []string{
			"To be able to demonstrate that you consented (Article 7(1) GDPR), we keep every choice you make in a consent log: the consent ID, the time, which version of this notice you saw, your choice for each category, how the choice was made, whether your browser sent the Global Privacy Control signal, the page where you chose (without its query string), a truncated IP address and a coarse description of your browser and device. The log never contains your full IP address.",
			fmt.Sprintf("The records are kept for %s from the time of the choice and are then deleted. The legal basis is our obligation to be able to demonstrate consent (Article 6(1)(c) read with Article 7(1) GDPR).", d.Consent.RetentionText),
		}},
		{ID: "version", Title: "Version and changes", Paragraphs: version},
	}
}

func policyLink(label string, d *Document) []Link {
	if d.Controller.PrivacyPolicyURL == "" {
		return nil
	}
	return []Link{{label, d.Controller.PrivacyPolicyURL}}
}
