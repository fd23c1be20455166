package wordpress_test

// The WordPress side of the test, written into a copy of Debian's WordPress.

// wpConfig: the test's own wp-config.php. External HTTP is blocked (the
// network is closed; update checks would only wait), which still lets the
// settings page reach the Samtycke server on the site's own host.
const wpConfig = `<?php
define( 'DB_NAME', '{{DB}}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
define( 'AUTH_KEY', '{{SALT}}a' );
define( 'SECURE_AUTH_KEY', '{{SALT}}b' );
define( 'LOGGED_IN_KEY', '{{SALT}}c' );
define( 'NONCE_KEY', '{{SALT}}d' );
define( 'AUTH_SALT', '{{SALT}}e' );
define( 'SECURE_AUTH_SALT', '{{SALT}}f' );
define( 'LOGGED_IN_SALT', '{{SALT}}g' );
define( 'NONCE_SALT', '{{SALT}}h' );
$table_prefix = 'wp_';
define( 'WP_HOME', '{{URL}}' );
define( 'WP_SITEURL', '{{URL}}' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '{{LOG}}' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'FS_METHOD', 'direct' );
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
`

// wpSetup installs WordPress (install) and the plugin's zip (plugin), then
// activates the plugin, sets its options and writes the content
// (configure), printing the ids; at the end it uninstalls the plugin.
const wpSetup = `<?php
$_SERVER['HTTP_HOST']   = '{{HOST}}';
$_SERVER['REQUEST_URI'] = '/';
$step                   = $argv[1] ?? '';
if ( 'privacy' === $step ) {
	define( 'WP_ADMIN', true ); // is_admin(): the suggestion is for wp-admin only.
}
if ( 'install' === $step ) {
	define( 'WP_INSTALLING', true );
}
// There is no mail here.
function wp_mail() {
	return true;
}
function wp_new_blog_notification() {
}
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( 'install' === $step ) {
	$r = wp_install( 'Butiken', 'admin', 'admin@example.test', false, '', '{{WP_PASSWORD}}' );
	if ( empty( $r['user_id'] ) ) {
		fwrite( STDERR, "wp_install failed\n" );
		exit( 1 );
	}
	exit( 0 );
}

// The zip from make wordpress-plugin, installed as Plugins → Add New → Upload Plugin does.
if ( 'plugin' === $step ) {
	require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
	$upgrader = new Plugin_Upgrader( new Automatic_Upgrader_Skin() );
	$ok       = $upgrader->install( $argv[2] );
	if ( true !== $ok ) {
		fwrite( STDERR, 'install: ' . ( is_wp_error( $ok ) ? $ok->get_error_message() : var_export( $ok, true ) ) . "\n" . implode( "\n", $upgrader->skin->get_upgrade_messages() ) . "\n" );
		exit( 1 );
	}
	echo wp_json_encode( array( 'plugin' => $upgrader->plugin_info() ) );
	exit( 0 );
}
// Exports of every wrong shape through the converter: each an answer in words
// (debug.log would hold any PHP warning).
if ( 'convert' === $step ) {
	$out = array();
	foreach ( json_decode( (string) file_get_contents( $argv[2] ), true ) as $export ) {
		$r     = samtycke_rcb_import( $export, array( 'default_language' => 'sv', 'categories' => 'x', 'items' => array() ), '127.0.0.1' );
		$out[] = is_wp_error( $r ) ? $r->get_error_message() : $r['added'] . ' added; ' . implode( '; ', $r['skipped'] );
	}
	echo wp_json_encode( $out );
	exit( 0 );
}
// The privacy policy suggestion, registered on admin_init as in wp-admin
// (only the plugin's own admin_init hook runs: the others expect a request).
if ( 'privacy' === $step ) {
	require_once ABSPATH . 'wp-admin/includes/class-wp-privacy-policy-content.php';
	$priority = has_action( 'admin_init', 'samtycke_privacy_policy_content' );
	remove_all_actions( 'admin_init' );
	if ( false !== $priority ) {
		add_action( 'admin_init', 'samtycke_privacy_policy_content', $priority );
	}
	do_action( 'admin_init' );
	$texts = array();
	foreach ( WP_Privacy_Policy_Content::get_suggested_policy_text() as $policy ) {
		$texts[ $policy['plugin_name'] ] = $policy['policy_text'];
	}
	echo wp_json_encode( array( 'hooked' => false !== $priority, 'texts' => $texts ) );
	exit( 0 );
}
if ( 'uninstall' === $step ) {
	deactivate_plugins( 'samtycke/samtycke.php' );
	uninstall_plugin( 'samtycke/samtycke.php' );
	$left = array();
	foreach ( array( 'samtycke_server_url', 'samtycke_site_id', 'samtycke_scripts', 'samtycke_hosts', 'samtycke_api_token' ) as $option ) {
		if ( false !== get_option( $option ) ) {
			$left[] = $option;
		}
	}
	echo wp_json_encode( array( 'left' => $left, 'active' => is_plugin_active( 'samtycke/samtycke.php' ) ) );
	exit( 0 );
}

$err = activate_plugin( 'samtycke/samtycke.php' );
if ( is_wp_error( $err ) ) {
	fwrite( STDERR, 'activate_plugin: ' . $err->get_error_message() . "\n" );
	exit( 1 );
}
update_option( 'samtycke_server_url', '{{SAMTYCKE}}' );
update_option( 'samtycke_site_id', '{{SITE}}' );
update_option( 'samtycke_scripts', array( 'butiken-chat' => 'preferences' ) );
update_option( 'samtycke_hosts', array( 'widget.butiken.test' => 'preferences' ) );
// Content made here has no user who may post iframes: without this kses
// would strip the embeds.
kses_remove_filters();
$post = wp_insert_post(
	array(
		'post_title'   => 'Vår nya film',
		'post_status'  => 'publish',
		'post_type'    => 'post',
		'post_content' => "<!-- wp:paragraph --><p>Se filmen om butiken.</p><!-- /wp:paragraph -->\n\n" .
			"<!-- wp:embed {\"url\":\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\",\"type\":\"video\",\"providerNameSlug\":\"youtube\",\"responsive\":true} -->\n" .
			"<figure class=\"wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube\"><div class=\"wp-block-embed__wrapper\">\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n</div></figure>\n<!-- /wp:embed -->\n\n" .
			"<!-- wp:html -->\n<iframe src=\"https://player.vimeo.com/video/76979871\" width=\"640\" height=\"360\" title=\"Vimeo-film\"></iframe>\n" .
			"<iframe src=\"https://www.google.com/maps/embed?pb=!1m18!1m12\" width=\"600\" height=\"300\" title=\"Karta\" loading=\"lazy\"></iframe>\n" .
			"<iframe src=\"https://open.spotify.com/embed/playlist/37i9dQZF1DXcBWIGoYBM5M\" width=\"100%\" height=\"152\" title=\"Spotify\"></iframe>\n" .
			"<iframe src=\"https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/1\" width=\"100%\" height=\"166\" title=\"SoundCloud\"></iframe>\n" .
			"<iframe src=\"https://www.instagram.com/p/C0ABCDEFGH/embed\" width=\"400\" height=\"480\" title=\"Instagram\"></iframe>\n<!-- /wp:html -->",
	),
	true
);
$page = wp_insert_post(
	array(
		'post_title'   => 'Cookies',
		'post_status'  => 'publish',
		'post_type'    => 'page',
		'post_content' => "<!-- wp:paragraph --><p>[samtycke_settings]</p><!-- /wp:paragraph -->\n\n<!-- wp:shortcode -->\n[samtycke_declaration]\n<!-- /wp:shortcode -->\n\n<!-- wp:samtycke/declaration /-->",
	),
	true
);
if ( is_wp_error( $post ) || is_wp_error( $page ) ) {
	fwrite( STDERR, "wp_insert_post failed\n" );
	exit( 1 );
}
echo wp_json_encode( array( 'post' => $post, 'page' => $page ) );
`

// muPlugin enqueues and prints each tracker the way the plugin named does
// (each checked against that plugin's public source where noted in the
// test's report), from hosts the test serves. Each inline snippet and each
// loaded script notes that it ran (window.__inl, window.__trk).
const muPlugin = `<?php
/**
 * Plugin Name: Test trackers
 */

add_action(
	'wp_enqueue_scripts',
	function () {
		// Site Kit by Google: Gtag_JS::HANDLE, its config as an inline script.
		wp_enqueue_script( 'google_gtagjs', 'https://www.googletagmanager.com/gtag/js?id=G-SITEKIT', array(), null, false );
		wp_add_inline_script( 'google_gtagjs', 'window.__inl=(window.__inl||[]).concat("sitekit");window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag("js",new Date());gtag("config","G-SITEKIT");' );
		// A script of the site's own that the owner's rule (samtycke_scripts) holds.
		wp_enqueue_script( 'butiken-chat', content_url( 'mu-plugins/chat.js' ), array(), '1.0', true );
		// A widget from a host that only the owner's host rule (samtycke_hosts) names.
		wp_enqueue_script( 'butiken-widget', 'https://widget.butiken.test/widget.js', array(), null, true );
		// Contact Form 7's reCAPTCHA (its handle and address): not a tracker.
		wp_enqueue_script( 'google-recaptcha', 'https://www.google.com/recaptcha/api.js?render=6Lc-test', array(), '3.0', true );
		// MonsterInsights: its events script from its own folder, localized.
		wp_enqueue_script( 'monsterinsights-frontend-script', content_url( 'mu-plugins/frontend-gtag.js' ), array(), '8.20', false );
		wp_localize_script( 'monsterinsights-frontend-script', 'monsterinsights_frontend', array( 'v4_id' => 'G-MI' ) );
	}
);

// MonsterInsights prints gtag.js (protocol-relative) and its tracker in wp_head, priority 6.
add_action(
	'wp_head',
	function () {
		echo "<!-- This site uses the Google Analytics by MonsterInsights plugin -->\n";
		echo '<script src="//www.googletagmanager.com/gtag/js?id=G-MI"  data-cfasync="false" data-wpfc-render="false" async></script>' . "\n";
		echo '<script data-cfasync="false" data-wpfc-render="false">var mi_version = "8.20"; var mi_track_user = true; window.__inl=(window.__inl||[]).concat("monsterinsights"); window.dataLayer = window.dataLayer || []; function __gtagDataLayer(){dataLayer.push(arguments);} function __gtagTracker(){__gtagDataLayer.apply(null, arguments);} __gtagTracker("js", new Date()); __gtagTracker("config", "G-MI", {});</script>' . "\n";
	},
	6
);

// GA Google Analytics prints gtag.js in wp_head.
add_action(
	'wp_head',
	function () {
		echo "<!-- GA Google Analytics @ https://m0n.co/ga -->\n";
		echo '<script async src="https://www.googletagmanager.com/gtag/js?id=G-GAGA"></script>' . "\n";
		echo "<script>\nwindow.__inl=(window.__inl||[]).concat('gaga');\nwindow.dataLayer = window.dataLayer || [];\nfunction gtag(){dataLayer.push(arguments);}\ngtag('js', new Date());\ngtag('config', 'G-GAGA');\n</script>\n";
	}
);

// Meta pixel for WordPress prints the base code in wp_head.
add_action(
	'wp_head',
	function () {
		echo "<!-- Meta Pixel Code -->\n<script type='text/javascript'>\nwindow.__inl=(window.__inl||[]).concat('meta');\n!function(w,d,src){if(w.fbq)return;var n=w.fbq=function(){n.queue.push(arguments)};n.queue=[];w._fbq=n;var t=d.createElement('script');t.async=true;t.src=src;var s=d.getElementsByTagName('script')[0];s.parentNode.insertBefore(t,s)}(window,document,'https://connect.facebook.net/en_US/fbevents.js');\nfbq('init', '1234567890');\nfbq('track', 'PageView');\n</script>\n<!-- End Meta Pixel Code -->\n";
	}
);

// Microsoft Clarity prints its loader in wp_head.
add_action(
	'wp_head',
	function () {
		echo "<script type=\"text/javascript\">\nwindow.__inl=(window.__inl||[]).concat('clarity');\n(function(c,l,a,r,i){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};var t=l.createElement(r);t.async=1;t.src=\"https://www.clarity.ms/tag/\"+i+\"?ref=wordpress\";var y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);})(window, document, \"clarity\", \"script\", \"abc123\");\n</script>\n";
	}
);

// Hotjar's snippet in wp_head.
add_action(
	'wp_head',
	function () {
		echo "<script>\nwindow.__inl=(window.__inl||[]).concat('hotjar');\n(function(h,o,t,j){h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};h._hjSettings={hjid:123456,hjsv:6};var a=o.getElementsByTagName('head')[0];var r=o.createElement('script');r.async=1;r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');\n</script>\n";
	}
);

// TikTok for WooCommerce: its base code as an inline script of a handle
// without a source (WordPress prints such snippets without script_loader_tag),
// and its events script from its own folder.
add_action(
	'wp_enqueue_scripts',
	function () {
		wp_register_script( 'tiktok-pixel-tracking-handle-header', '', array(), 'v1' );
		wp_enqueue_script( 'tiktok-pixel-tracking-handle-header' );
		wp_add_inline_script( 'tiktok-pixel-tracking-handle-header', "window.__inl=(window.__inl||[]).concat('tiktok');\n!function(w,d,t){w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.load=function(e){var s=d.createElement('script');s.async=true;s.src='https://analytics.tiktok.com/i18n/pixel/events.js?sdkid='+e+'&lib='+t;var f=d.getElementsByTagName('script')[0];f.parentNode.insertBefore(s,f)};ttq.load('TESTPIXEL');ttq.page=function(){};ttq.page();}(window,document,'ttq');" );
		wp_enqueue_script( 'tt4b_ajax_script', content_url( 'mu-plugins/ajaxSnippet.js' ), array(), 'v1', false );
	}
);

// Matomo for WordPress prints its tracker; matomo.js comes from the site itself.
add_action(
	'wp_footer',
	function () {
		$js = wp_json_encode( content_url( 'uploads/matomo/matomo.js' ) );
		echo '<!-- Matomo --><script  >var _paq = window._paq = window._paq || [];' . "\nwindow.__inl=(window.__inl||[]).concat('matomo');\n_paq.push(['trackPageView']);_paq.push(['enableLinkTracking']);_paq.push(['setSiteId', '1']);var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];\ng.type='text/javascript'; g.async=true; g.src=" . $js . '; s.parentNode.insertBefore(g,s);</script><!-- End Matomo Code -->' . "\n";
	}
);

// LinkedIn Insight Tag: the partner id, then the loader.
add_action(
	'wp_footer',
	function () {
		echo "<script type=\"text/javascript\">\nwindow.__inl=(window.__inl||[]).concat('linkedin-id');\n_linkedin_partner_id = \"123456\";\nwindow._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];\nwindow._linkedin_data_partner_ids.push(_linkedin_partner_id);\n</script>\n";
		echo "<script type=\"text/javascript\">\nwindow.__inl=(window.__inl||[]).concat('linkedin');\n(function(l){if(!l){window.lintrk=function(a,b){window.lintrk.q.push([a,b])};window.lintrk.q=[]}var s=document.getElementsByTagName('script')[0];var b=document.createElement('script');b.type='text/javascript';b.async=true;b.src='https://snap.licdn.com/li.lms-analytics/insight.min.js';s.parentNode.insertBefore(b,s);})(window.lintrk);\n</script>\n";
	}
);

// Pinterest for WooCommerce prints its tag in wp_footer with wp_print_inline_script_tag().
add_action(
	'wp_footer',
	function () {
		echo "<!-- Pinterest Pixel Base Code -->\n";
		wp_print_inline_script_tag( "window.__inl=(window.__inl||[]).concat('pinterest');\n!function(e){if(!window.pintrk){window.pintrk=function(){window.pintrk.queue.push(Array.prototype.slice.call(arguments))};var n=window.pintrk;n.queue=[];var t=document.createElement('script');t.async=!0;t.src=e;var r=document.getElementsByTagName('script')[0];r.parentNode.insertBefore(t,r)}}('https://s.pinimg.com/ct/core.js');\npintrk('load', '2612345678901');\npintrk('page');", array( 'type' => 'text/javascript' ) );
		echo "<!-- End Pinterest Pixel Base Code -->\n";
	}
);

// A security plugin's CSP nonce, handed to the banner's tag.
add_filter(
	'samtycke_csp_nonce',
	function () {
		return 'test-nonce-123';
	}
);

// YouTube's oEmbed answer, as the closed network cannot ask YouTube.
add_filter(
	'pre_oembed_result',
	function ( $result, $url ) {
		if ( false !== strpos( $url, 'youtube.com/watch' ) ) {
			return '<iframe title="Butikens film" width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed" frameborder="0" allow="autoplay; encrypted-media" allowfullscreen></iframe>';
		}
		return $result;
	},
	10,
	2
);
`

// localTracker is a tracker script that WordPress serves itself
// (MonsterInsights' events script, Matomo's matomo.js).
const localTracker = `(function(){var l=%q;window.__trk=window.__trk||{};window.__trk[l]=true;document.cookie="_trk_"+l.replace(/[^a-z0-9]/gi,"_")+"=1; path=/";localStorage.setItem("trk_"+l,"1");})();`

// rcbExport is a Real Cookie Banner settings export (its shape as its
// Export class writes it: cookieGroups, and cookies with their group's slug
// and metas) of a shop with a few services; the test imports it into the
// Samtycke draft.
const rcbExport = `{
  "settings": {"rcb-banner-active": true},
  "cookieGroups": [
    {"term_id": 1, "slug": "nodvandiga", "name": "Nödvändiga", "description": "Needed for the site to work."},
    {"term_id": 2, "slug": "funktionella", "name": "Funktionella", "description": "Comfort features."},
    {"term_id": 3, "slug": "statistics", "name": "Statistics", "description": "Visitor statistics."},
    {"term_id": 4, "slug": "marketing", "name": "Marketing", "description": "Advertising."},
    {"term_id": 5, "slug": "social-media", "name": "Social media", "description": "<p>Sharing buttons.</p>"}
  ],
  "cookies": [
    {"group": "nodvandiga", "ID": 10, "post_name": "real-cookie-banner", "post_status": "publish", "post_title": "Real Cookie Banner",
     "post_content": "Stores the consent.", "metas": {"provider": "Butiken", "technicalDefinitions": [
       {"type": "http", "name": "real_cookie_banner*", "host": "127.0.0.1", "duration": 1, "durationUnit": "y", "isSessionDuration": false}]}},
    {"group": "statistics", "ID": 11, "post_name": "google-analytics-analytics-4", "post_status": "publish", "post_title": "Google Analytics",
     "post_content": "<p>Counts <strong>visits</strong>.</p>", "metas": {"provider": "Google Ireland Limited", "dataProcessingInCountries": ["US", "IE"],
       "technicalDefinitions": [
         {"type": "http", "name": "_ga", "host": "127.0.0.1", "duration": 2, "durationUnit": "y", "isSessionDuration": false},
         {"type": "http", "name": "_gid", "host": ".127.0.0.1", "duration": 1, "durationUnit": "d", "isSessionDuration": false}]}},
    {"group": "marketing", "ID": 12, "post_name": "facebook-pixel", "post_status": "publish", "post_title": "Facebook Pixel",
     "post_content": "Measures ads.", "metas": {"provider": "Meta Platforms Ireland Limited", "dataProcessingInCountries": ["US"],
       "technicalDefinitions": [
         {"type": "http", "name": "_fbp", "host": "127.0.0.1", "duration": 3, "durationUnit": "mo", "isSessionDuration": false},
         {"type": "http", "name": "fr", "host": ".facebook.com", "duration": 3, "durationUnit": "mo", "isSessionDuration": false}]}},
    {"group": "nodvandiga", "ID": 17, "post_name": "woocommerce", "post_status": "publish", "post_title": "WooCommerce",
     "post_content": "The cart.", "metas": {"provider": "Butiken", "technicalDefinitions": [
       {"type": "http", "name": "woocommerce_cart_hash", "host": "127.0.0.1", "duration": 0, "durationUnit": "y", "isSessionDuration": true}]}},
    {"group": "funktionella", "ID": 13, "post_name": "chat", "post_status": "publish", "post_title": "Chat",
     "post_content": "", "metas": {"provider": "", "technicalDefinitions": [
       {"type": "local", "name": "chat_state", "host": "127.0.0.1", "duration": 0, "durationUnit": "y", "isSessionDuration": false}]}},
    {"group": "social-media", "ID": 14, "post_name": "addtoany", "post_status": "publish", "post_title": "AddToAny",
     "post_content": "Share buttons.", "metas": {"provider": "AddToAny LLC", "dataProcessingInCountries": ["SE"], "technicalDefinitions": [
       {"type": "session", "name": "a2a_session", "host": "", "duration": 0, "durationUnit": "y", "isSessionDuration": true}]}},
    {"group": "marketing", "ID": 15, "post_name": "old-pixel", "post_status": "draft", "post_title": "Old pixel",
     "post_content": "", "metas": {"technicalDefinitions": [{"type": "http", "name": "old", "host": "127.0.0.1", "duration": 1, "durationUnit": "y"}]}},
    {"group": "nodvandiga", "ID": 16, "post_name": "fonts", "post_status": "publish", "post_title": "Local fonts",
     "post_content": "", "metas": {"technicalDefinitions": []}}
  ],
  "blocker": []
}`

// rcbHostile are exports of wrong shapes, and what the import says of each.
var rcbHostile = []struct {
	export string
	says   string
}{
	{`null`, "not a Real Cookie Banner export"},
	{`"x"`, "not a Real Cookie Banner export"},
	{`{"cookies": "x"}`, "not a Real Cookie Banner export"},
	{`{"cookies": [1, "a", null, []]}`, "0 added; a service without a name or details; a service without a name or details"},
	{`{"cookieGroups": ["x", {"slug": []}], "cookies": [{"post_title": "A", "group": "marketing", "metas": {"technicalDefinitions": ["x",
		{"type": [], "name": []}, {"type": "http", "name": "n", "host": [], "duration": "x", "durationUnit": [], "isSessionDuration": "yes"}],
		"dataProcessingInCountries": [[], "us", 5]}}]}`, "1 added; A: a definition of an unknown kind; A: a definition of an unknown kind"},
	{`{"cookies": [{"post_title": "B", "group": "Ünïcode grüp!", "metas": {"provider": [], "technicalDefinitions": [{"type": "flash", "name": "f"}]}}]}`,
		"0 added; B (no usable group)"},
}

// scanReport is a report of samtycke scan for the site: an undeclared
// Hotjar cookie and a pixel host contacted before consent, each with its
// suggested declaration.
const scanReport = `{"id":"{{ID}}","site":"butiken","config_version":1,"config_hash":"","started_at":"{{AT}}","duration_ms":4200,
"lang":"sv","start_urls":["http://wordpress.test/"],"banner_found":true,
"pages":[{"pass":"before","url":"http://wordpress.test/","status":200},{"pass":"after","url":"http://wordpress.test/","status":200}],
"items":[{"type":"cookie","name":"_hjSessionUser_123456","domain":"wordpress.test","party":"first","before_consent":false,"after_consent":true,
 "findings":["undeclared"],"suggestion":{"name":"_hjSessionUser_*","pattern":"^_hjSessionUser_[0-9]+$","type":"cookie","provider":"Hotjar Ltd",
 "party":"first","category":"statistics","duration":"P1Y","purpose":{"sv":"Hotjar: känner igen återkommande besökare.","en":"Hotjar: recognises returning visitors."}}}],
"unseen":[],
"third_parties":[{"host":"px.ads.example","requests":3,"example":"https://px.ads.example/p.gif","before_consent":true,"after_consent":true,
 "findings":["undeclared","pre-consent"],"suggestion":{"name":"px.ads.example","type":"pixel","provider":"Ads Example","party":"third",
 "domain":"px.ads.example","category":"marketing","duration":"session","purpose":{"sv":"Annonser.","en":"Advertising."}}}],
"refused":[],"skipped":[],
"suggestions":[{"name":"_hjSessionUser_*","pattern":"^_hjSessionUser_[0-9]+$","type":"cookie","provider":"Hotjar Ltd","party":"first",
 "category":"statistics","duration":"P1Y","purpose":{"sv":"Hotjar: känner igen återkommande besökare.","en":"Hotjar: recognises returning visitors."}},
 {"name":"px.ads.example","type":"pixel","provider":"Ads Example","party":"third","domain":"px.ads.example","category":"marketing",
 "duration":"session","purpose":{"sv":"Annonser.","en":"Advertising."}}],
"limits_reached":[],"bytes":0,"counts":{"undeclared":2,"pre-consent":1,"unseen":0}}`

// msDefines turn the installed site into a network of sub-directory sites.
const msDefines = `define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', '{{HOST}}' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
`

// msRouter is what the rewrite rules of a sub-directory network do for
// PHP's server: a site's own path (/andra/…) is the network's files.
const msRouter = `<?php
$path = (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );
$path = preg_replace( '#^/[a-z0-9-]+(/(wp-(admin|includes|content)/.*|wp-[a-z-]+\.php))$#', '$1', $path );
$file = __DIR__ . $path;
if ( is_file( $file ) ) {
	if ( ! str_ends_with( $file, '.php' ) ) {
		return false;
	}
	chdir( dirname( $file ) );
	require $file;
	return true;
}
if ( is_dir( $file ) && is_file( $file . '/index.php' ) && '/' !== $path ) {
	chdir( $file );
	require $file . '/index.php';
	return true;
}
require __DIR__ . '/index.php';
`

// msSetup: install (one site, then the network's tables), sites (a second
// site, the plugin activated for the network, each site's own options) and
// uninstall (what is left of the options on each site).
const msSetup = `<?php
$_SERVER['HTTP_HOST']   = '{{HOST}}';
$_SERVER['REQUEST_URI'] = '/';
$step                   = $argv[1] ?? '';
if ( 'install' === $step ) {
	define( 'WP_INSTALLING', true );
}
function wp_mail() {
	return true;
}
function wp_new_blog_notification() {
}
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$options = array( 'samtycke_server_url', 'samtycke_site_id', 'samtycke_scripts', 'samtycke_hosts', 'samtycke_api_token' );

if ( 'install' === $step ) {
	$r = wp_install( 'Butiken', 'admin', 'admin@example.test', false, '', '{{WP_PASSWORD}}' );
	if ( empty( $r['user_id'] ) ) {
		fwrite( STDERR, "wp_install failed\n" );
		exit( 1 );
	}
	update_option( 'siteurl', 'http://{{HOST}}' );
	update_option( 'home', 'http://{{HOST}}' );
	// As wp-admin/network.php does: the network's table names are unset on a single site.
	foreach ( $wpdb->tables( 'ms_global' ) as $table => $prefixed ) {
		$wpdb->$table = $prefixed;
	}
	install_network();
	$err = populate_network( 1, '{{HOST}}', 'admin@example.test', 'Butikerna', '/', false );
	if ( is_wp_error( $err ) ) {
		fwrite( STDERR, 'populate_network: ' . $err->get_error_message() . "\n" );
		exit( 1 );
	}
	exit( 0 );
}
if ( 'sites' === $step ) {
	$second = wpmu_create_blog( '{{HOST}}', '/andra/', 'Andra', 1 );
	if ( is_wp_error( $second ) ) {
		fwrite( STDERR, 'wpmu_create_blog: ' . $second->get_error_message() . "\n" );
		exit( 1 );
	}
	$err = activate_plugin( 'samtycke/samtycke.php', '', true );
	if ( is_wp_error( $err ) ) {
		fwrite( STDERR, 'activate_plugin: ' . $err->get_error_message() . "\n" );
		exit( 1 );
	}
	$settings = array(
		1       => array( 'https://consent.example.se', 'butiken' ),
		$second => array( 'https://samtycke.andra.example', 'andra' ),
	);
	foreach ( $settings as $blog => $s ) {
		switch_to_blog( $blog );
		update_option( 'samtycke_server_url', $s[0] );
		update_option( 'samtycke_site_id', $s[1] );
		update_option( 'samtycke_hosts', array( $s[1] . '.widget.example' => 'marketing' ) );
		update_option( 'samtycke_api_token', 'smt_' . $s[1] );
		restore_current_blog();
	}
	echo wp_json_encode( array( 'butiken' => 1, 'andra' => $second ) );
	exit( 0 );
}
if ( 'uninstall' === $step ) {
	deactivate_plugins( 'samtycke/samtycke.php', false, true );
	uninstall_plugin( 'samtycke/samtycke.php' );
	$left = array();
	foreach ( get_sites( array( 'fields' => 'ids' ) ) as $blog ) {
		switch_to_blog( $blog );
		$left[ $blog ] = array();
		foreach ( $options as $option ) {
			if ( false !== get_option( $option ) ) {
				$left[ $blog ][] = $option;
			}
		}
		restore_current_blog();
	}
	echo wp_json_encode( $left );
	exit( 0 );
}
exit( 2 );
`
