package scan

import "regexp"

// The built-in table holds only what the Open Cookie Database lacks: names
// it does not have or files under one site that uses them (Segment's
// ajs_* under Trustpilot, Express's connect.sid under Zendesk), and hosts,
// which it does not describe at all. Everything here is a hint for the site
// owner, who must check it: providers rename things. Provider names are
// names, the same in every language; purposes are in Swedish and English.

func named(match, declName, pattern, platform, provider, category, country, sv, en string) entry {
	return entry{match: regexp.MustCompile(match), declName: declName, pattern: pattern, platform: platform,
		provider: provider, category: category, country: country, sv: sv, en: en, builtin: true}
}

func host(domains []string, platform, provider, category, country, sv, en string) entry {
	return entry{domains: domains, platform: platform, provider: provider, category: category, country: country,
		sv: sv, en: en, builtin: true}
}

// builtinNames: an empty provider means the site's own controller.
var builtinNames = []entry{
	named(`^ajs_(anonymous_id|user_id|group_id|user_traits|group_properties)$`, "", "", "Segment", "Twilio Inc. (Segment)", "statistics", "US",
		"Segment: skiljer besökare åt och skickar besöken vidare till analys- och marknadsföringsverktyg.",
		"Segment: identifies the visitor and passes visits on to analytics and marketing tools."),
	named(`^persisted-queue:v1:`, "persisted-queue:v1:*", `^persisted-queue:v1:.+$`, "Segment", "Twilio Inc. (Segment)", "statistics", "US",
		"Segment: händelser som väntar på att skickas till Segment.", "Segment: events waiting to be sent to Segment."),
	// PostHog's cookie and storage keys: ph_<project key>_posthog,
	// _window_id, _primary_window_exists, …
	named(`^ph_phc_[A-Za-z0-9]+_[a-z_]+$`, "ph_<project key>_*", `^ph_phc_[A-Za-z0-9]+_[a-z_]+$`, "PostHog", "PostHog Inc.", "statistics", "US",
		"PostHog: skiljer besökare åt och håller ihop sessionen för besöksstatistik.",
		"PostHog: identifies the visitor and keeps the session together for usage statistics."),
	named(`^mixpanel[A-Za-z]*Db$`, "", "", "Mixpanel", "Mixpanel", "statistics", "US",
		"Mixpanel: köade händelser och inställningar för besöksstatistik.", "Mixpanel: queued events and settings for usage statistics."),
	named(`^__Secure-YEC$`, "", "", "YouTube", "Google", "marketing", "US",
		"YouTube: inbäddade videor och annonser.", "YouTube: embedded videos and advertising."),
	named(`^S?SESS[0-9a-f]{16,}$`, "SESS<hash>", `^S?SESS[0-9a-f]+$`, "Drupal", "", "necessary", "",
		"Drupal: sessionscookie som håller ihop besöket.", "Drupal: session cookie that keeps the visit together."),
	named(`^connect\.sid$`, "", "", "Express", "", "necessary", "",
		"Sessionscookie som håller ihop besöket.", "Session cookie that keeps the visit together."),
	named(`^samtycke$`, "", "", "Samtycke", "", "necessary", "",
		"Sparar ditt val om cookies och ditt samtyckes-ID.", "Stores your cookie choice and your consent ID."),
	named(`^samtycke_pending$`, "", "", "Samtycke", "", "necessary", "",
		"Håller ett val som ännu inte nått servern, så att det skickas igen vid nästa sidvisning.",
		"Keeps a choice that has not reached the server yet, so that it is sent again on the next page view."),
	named(`^samtycke_receipts$`, "", "", "Samtycke", "", "necessary", "",
		"Kvitton på dina val, signerade av servern, som du kan ladda ned och låta granska.",
		"Receipts for your choices, signed by the server, which you can download and have checked."),
}

// builtinHosts: hosts pages request, for requests made without storing
// anything (and for cookies the database does not know, by their domain).
var builtinHosts = []entry{
	host([]string{"fonts.googleapis.com", "fonts.gstatic.com"}, "Google Fonts", "Google", "preferences", "US",
		"Google Fonts: typsnitt från Googles servrar, som får besökarens IP-adress. Lägg typsnitten på den egna servern i stället.",
		"Google Fonts: fonts from Google's servers, which receive the visitor's IP address. Serve the fonts from the site's own server instead."),
	host([]string{"google-analytics.com", "analytics.google.com"}, "Google Analytics", "Google", "statistics", "US",
		"Google Analytics: besöksstatistik.", "Google Analytics: usage statistics."),
	host([]string{"googletagmanager.com"}, "Google Tag Manager", "Google", "statistics", "US",
		"Google Tag Manager: laddar mät- och annonstaggar.", "Google Tag Manager: loads measurement and advertising tags."),
	host([]string{"doubleclick.net", "googleadservices.com", "googlesyndication.com"}, "Google Ads", "Google", "marketing", "US",
		"Google-annonser: visar och mäter annonser.", "Google advertising: shows and measures ads."),
	host([]string{"youtube.com", "youtube-nocookie.com", "ytimg.com", "googlevideo.com"}, "YouTube", "Google", "marketing", "US",
		"YouTube: inbäddade videor; även youtube-nocookie.com lagrar uppgifter i webbläsaren och kontaktar Google.",
		"YouTube: embedded videos; youtube-nocookie.com, too, stores data in the browser and contacts Google."),
	host([]string{"vimeo.com", "vimeocdn.com"}, "Vimeo", "Vimeo.com Inc.", "statistics", "US",
		"Vimeo: inbäddade videor och statistik över uppspelningar.", "Vimeo: embedded videos and playback statistics."),
	host([]string{"facebook.com", "facebook.net"}, "Meta pixel", "Meta Platforms Ireland Ltd", "marketing", "US",
		"Meta-pixeln: känner igen webbläsaren för annonser.", "Meta pixel: recognises the browser for ads."),
	host([]string{"bat.bing.com"}, "Microsoft Advertising", "Microsoft", "marketing", "US",
		"Microsoft Advertising (UET): mäter annonser.", "Microsoft Advertising (UET): measures ads."),
	host([]string{"clarity.ms"}, "Microsoft Clarity", "Microsoft", "statistics", "US",
		"Microsoft Clarity: analys av hur sidan används.", "Microsoft Clarity: analyses how the page is used."),
	host([]string{"hotjar.com", "hotjar.io"}, "Hotjar", "Hotjar Ltd", "statistics", "",
		"Hotjar: analys av hur sidan används.", "Hotjar: analyses how the page is used."),
	host([]string{"mixpanel.com", "mxpnl.com"}, "Mixpanel", "Mixpanel", "statistics", "US",
		"Mixpanel: besöksstatistik och analys av hur sidan används.", "Mixpanel: usage statistics and product analytics."),
	host([]string{"segment.com", "segment.io"}, "Segment", "Twilio Inc. (Segment)", "statistics", "US",
		"Segment: samlar in besök och skickar dem vidare till analys- och marknadsföringsverktyg.",
		"Segment: collects visits and passes them on to analytics and marketing tools."),
	host([]string{"posthog.com"}, "PostHog", "PostHog Inc.", "statistics", "US",
		"PostHog: besöksstatistik och analys av hur sidan används.", "PostHog: usage statistics and product analytics."),
	host([]string{"amplitude.com"}, "Amplitude", "Amplitude", "statistics", "US",
		"Amplitude: besöksstatistik och analys av hur sidan används.", "Amplitude: usage statistics and product analytics."),
	host([]string{"linkedin.com", "licdn.com"}, "LinkedIn Insight", "LinkedIn", "marketing", "US",
		"LinkedIn Insight: annonser och mätning.", "LinkedIn Insight: advertising and measurement."),
	host([]string{"tiktok.com"}, "TikTok pixel", "TikTok", "marketing", "CN", "TikTok-pixeln: mäter annonser.", "TikTok pixel: measures ads."),
	host([]string{"pinterest.com"}, "Pinterest tag", "Pinterest", "marketing", "US", "Pinterest-taggen: mäter annonser.", "Pinterest tag: measures ads."),
	host([]string{"hs-analytics.net", "hs-scripts.com"}, "HubSpot", "HubSpot", "marketing", "US",
		"HubSpot: spårar besök för marknadsföring.", "HubSpot: tracks visits for marketing."),
	host([]string{"snapchat.com"}, "Snap pixel", "Snap", "marketing", "US", "Snap-pixeln: mäter annonser.", "Snap pixel: measures ads."),
	host([]string{"ads-twitter.com"}, "X pixel", "X", "marketing", "US", "X-pixeln: mäter annonser.", "X pixel: measures ads."),
}

// builtinPaths recognise trackers that sites host themselves, by what is
// asked of them; an empty provider means the site's own controller.
var builtinPaths = []entry{
	{match: regexp.MustCompile(`(^|/)(matomo|piwik)\.(php|js)$`), platform: "Matomo", category: "statistics", builtin: true,
		sv: "Matomo på egen server: besöksstatistik.", en: "Matomo, self-hosted: usage statistics."},
}
