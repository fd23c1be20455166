package scan

import (
	"regexp"
	"strings"
)

// known is a well-known cookie, storage key or domain, used to suggest a
// declaration for what a site did not declare. It is a hint for the site
// owner, who must check it: providers rename things.
type known struct {
	name     *regexp.Regexp // cookie or storage key; nil for a domain entry
	domain   string         // request or cookie domain (and its subdomains)
	provider string
	category string
	country  string // ISO code when data usually goes outside the EU/EEA
	sv, en   string // purpose
}

func k(name, domain, provider, category, country, sv, en string) known {
	var re *regexp.Regexp
	if name != "" {
		re = regexp.MustCompile(name)
	}
	return known{re, domain, provider, category, country, sv, en}
}

var knownTable = []known{
	k(`^_ga$`, "", "Google Ireland Ltd", "statistics", "US", "Google Analytics: skiljer besökare åt.", "Google Analytics: distinguishes visitors."),
	k(`^_ga_[A-Z0-9]+$`, "", "Google Ireland Ltd", "statistics", "US", "Google Analytics: håller reda på sessionen.", "Google Analytics: keeps the session state."),
	k(`^(_gid|_gat.*)$`, "", "Google Ireland Ltd", "statistics", "US", "Google Analytics: besöksstatistik.", "Google Analytics: usage statistics."),
	k(`^_gcl_(au|aw|dc|gb)$`, "", "Google Ireland Ltd", "marketing", "US", "Google Ads: mäter konverteringar från annonser.", "Google Ads: measures ad conversions."),
	k(`^(IDE|test_cookie|DSID|__gads|__gpi)$`, "", "Google Ireland Ltd", "marketing", "US", "Google-annonser: visar och mäter annonser.", "Google advertising: shows and measures ads."),
	k(`^(NID|AEC|SOCS|1P_JAR)$`, "", "Google Ireland Ltd", "marketing", "US", "Google: inställningar och annonser.", "Google: preferences and advertising."),
	k(`^(_fbp|_fbc|fr)$`, "", "Meta Platforms Ireland Ltd", "marketing", "US", "Meta-pixeln: känner igen webbläsaren för annonser.", "Meta pixel: recognises the browser for ads."),
	k(`^_hj`, "", "Hotjar Ltd", "statistics", "", "Hotjar: analys av hur sidan används.", "Hotjar: analyses how the page is used."),
	k(`^(_clck|_clsk|CLID)$`, "", "Microsoft Ireland Operations Ltd", "statistics", "US", "Microsoft Clarity: analys av hur sidan används.", "Microsoft Clarity: analyses how the page is used."),
	k(`^(MUID|_uetsid|_uetvid|MR)$`, "", "Microsoft Ireland Operations Ltd", "marketing", "US", "Microsoft Advertising: mäter annonser.", "Microsoft Advertising: measures ads."),
	k(`^(li_sugr|bcookie|bscookie|lidc|UserMatchHistory|AnalyticsSyncHistory|li_gc|lms_ads|lms_analytics)$`, "", "LinkedIn Ireland Unlimited Company", "marketing", "US", "LinkedIn: annonser och mätning.", "LinkedIn: advertising and measurement."),
	k(`^(_ttp|_tt_enable_cookie|ttwid)$`, "", "TikTok Technology Ltd", "marketing", "CN", "TikTok-pixeln: mäter annonser.", "TikTok pixel: measures ads."),
	k(`^(_pin_unauth|_pinterest_ct_ua|_pinterest_sess)$`, "", "Pinterest Europe Ltd", "marketing", "US", "Pinterest-taggen: mäter annonser.", "Pinterest tag: measures ads."),
	k(`^(__hssc|__hssrc|__hstc|hubspotutk)$`, "", "HubSpot Inc", "marketing", "US", "HubSpot: spårar besök för marknadsföring.", "HubSpot: tracks visits for marketing."),
	k(`^_pk_(id|ses|ref)(\..*)?$`, "", "Matomo (självvärd)", "statistics", "", "Matomo: besöksstatistik.", "Matomo: usage statistics."),
	k(`^(YSC|VISITOR_INFO1_LIVE|VISITOR_PRIVACY_METADATA|__Secure-YEC)$`, "", "Google Ireland Ltd (YouTube)", "marketing", "US", "YouTube: inbäddade videor och annonser.", "YouTube: embedded videos and ads."),
	k(`^(PHPSESSID|JSESSIONID|ASP\.NET_SessionId|connect\.sid|laravel_session|SESS[0-9a-f]+)$`, "", "", "necessary", "", "Sessionscookie: håller ihop ditt besök.", "Session cookie: keeps your visit together."),
	k(`^(__cf_bm|_cfuvid|cf_clearance)$`, "", "Cloudflare Inc", "necessary", "US", "Cloudflare: skydd mot skadlig trafik.", "Cloudflare: protection against malicious traffic."),
	k(`^(CookieConsent|OptanonConsent|OptanonAlertBoxClosed|cookieyes-consent|samtycke)$`, "", "", "necessary", "", "Sparar ditt val om cookies.", "Stores your cookie choice."),
	k(`^__stripe_(mid|sid)$`, "", "Stripe Payments Europe Ltd", "necessary", "US", "Stripe: förhindrar bedrägerier vid betalning.", "Stripe: prevents payment fraud."),
	k(`^_shopify_(y|s|sa_t|sa_p)$`, "", "Shopify International Ltd", "statistics", "CA", "Shopify: besöksstatistik.", "Shopify: usage statistics."),
	k(`^wp-settings`, "", "WordPress", "preferences", "", "WordPress: inställningar för inloggade.", "WordPress: settings of signed-in users."),
	k("", "google-analytics.com", "Google Ireland Ltd", "statistics", "US", "Google Analytics.", "Google Analytics."),
	k("", "analytics.google.com", "Google Ireland Ltd", "statistics", "US", "Google Analytics.", "Google Analytics."),
	k("", "googletagmanager.com", "Google Ireland Ltd", "statistics", "US", "Google Tag Manager laddar mätskript.", "Google Tag Manager loads measurement tags."),
	k("", "doubleclick.net", "Google Ireland Ltd", "marketing", "US", "Google-annonser.", "Google advertising."),
	k("", "googleadservices.com", "Google Ireland Ltd", "marketing", "US", "Google Ads.", "Google Ads."),
	k("", "googlesyndication.com", "Google Ireland Ltd", "marketing", "US", "Google-annonser.", "Google advertising."),
	k("", "facebook.com", "Meta Platforms Ireland Ltd", "marketing", "US", "Meta-pixeln.", "Meta pixel."),
	k("", "facebook.net", "Meta Platforms Ireland Ltd", "marketing", "US", "Meta-pixeln.", "Meta pixel."),
	k("", "bat.bing.com", "Microsoft Ireland Operations Ltd", "marketing", "US", "Microsoft Advertising (UET).", "Microsoft Advertising (UET)."),
	k("", "clarity.ms", "Microsoft Ireland Operations Ltd", "statistics", "US", "Microsoft Clarity.", "Microsoft Clarity."),
	k("", "hotjar.com", "Hotjar Ltd", "statistics", "", "Hotjar.", "Hotjar."),
	k("", "hotjar.io", "Hotjar Ltd", "statistics", "", "Hotjar.", "Hotjar."),
	k("", "linkedin.com", "LinkedIn Ireland Unlimited Company", "marketing", "US", "LinkedIn Insight.", "LinkedIn Insight."),
	k("", "licdn.com", "LinkedIn Ireland Unlimited Company", "marketing", "US", "LinkedIn Insight.", "LinkedIn Insight."),
	k("", "tiktok.com", "TikTok Technology Ltd", "marketing", "CN", "TikTok-pixeln.", "TikTok pixel."),
	k("", "pinterest.com", "Pinterest Europe Ltd", "marketing", "US", "Pinterest-taggen.", "Pinterest tag."),
	k("", "youtube.com", "Google Ireland Ltd (YouTube)", "marketing", "US", "YouTube.", "YouTube."),
	k("", "hs-analytics.net", "HubSpot Inc", "marketing", "US", "HubSpot.", "HubSpot."),
	k("", "hs-scripts.com", "HubSpot Inc", "marketing", "US", "HubSpot.", "HubSpot."),
	k("", "snapchat.com", "Snap B.V.", "marketing", "US", "Snap-pixeln.", "Snap pixel."),
	k("", "ads-twitter.com", "X Corp", "marketing", "US", "X-pixeln.", "X pixel."),
}

// lookupName finds a well-known cookie or storage key.
func lookupName(name string) *known {
	for i := range knownTable {
		if knownTable[i].name != nil && knownTable[i].name.MatchString(name) {
			return &knownTable[i]
		}
	}
	return nil
}

// lookupDomain finds a well-known domain for host (or a parent of it).
func lookupDomain(host string) *known {
	host = strings.TrimPrefix(strings.ToLower(host), ".")
	for i := range knownTable {
		if d := knownTable[i].domain; d != "" && domainMatch(host, d) {
			return &knownTable[i]
		}
	}
	return nil
}

// domainMatch reports whether host is domain or one of its subdomains.
func domainMatch(host, domain string) bool {
	host = strings.TrimPrefix(strings.ToLower(host), ".")
	domain = strings.TrimPrefix(strings.ToLower(domain), ".")
	return host == domain || strings.HasSuffix(host, "."+domain)
}
