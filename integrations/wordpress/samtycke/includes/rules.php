<?php
/**
 * The built-in blocking rules: script handles and hosts of common tracking
 * plugins and embed providers, each with the consent category it needs.
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

/**
 * Script handles enqueued by common plugins, mapped to a category. The
 * owner's own rules (option samtycke_scripts) are added on top.
 *
 * @return array<string,string>
 */
function samtycke_builtin_handles() {
	return array(
		'google_gtagjs'                   => 'statistics', // Site Kit by Google.
		'monsterinsights-frontend-script' => 'statistics',
		'tt4b_ajax_script'                => 'marketing', // TikTok for WooCommerce's events.
	);
}

/**
 * Hosts whose scripts and iframes are blocked: category and who it is
 * (the name also heads an embed's placeholder). A key with a path holds
 * only addresses under it: www.google.com also serves reCAPTCHA, which
 * contact forms need before any choice.
 *
 * @return array<string,array{0:string,1:string}>
 */
function samtycke_builtin_host_rules() {
	return array(
		'www.googletagmanager.com' => array( 'statistics', 'Google Analytics (gtag.js)' ),
		'www.google-analytics.com' => array( 'statistics', 'Google Analytics' ),
		'connect.facebook.net'     => array( 'marketing', 'Meta pixel' ),
		'static.hotjar.com'        => array( 'statistics', 'Hotjar' ),
		'www.clarity.ms'           => array( 'statistics', 'Microsoft Clarity' ),
		'snap.licdn.com'           => array( 'marketing', 'LinkedIn Insight Tag' ),
		's.pinimg.com'             => array( 'marketing', 'Pinterest Tag' ),
		'analytics.tiktok.com'     => array( 'marketing', 'TikTok pixel' ),
		'www.youtube.com'          => array( 'marketing', 'YouTube' ),
		'www.youtube-nocookie.com' => array( 'marketing', 'YouTube' ),
		'player.vimeo.com'         => array( 'marketing', 'Vimeo' ),
		'www.google.com/maps'      => array( 'marketing', 'Google Maps' ),
		'maps.google.com'          => array( 'marketing', 'Google Maps' ),
		'open.spotify.com'         => array( 'marketing', 'Spotify' ),
		'w.soundcloud.com'         => array( 'marketing', 'SoundCloud' ),
		'www.instagram.com'        => array( 'marketing', 'Instagram' ),
	);
}

/**
 * Hosts whose scripts and iframes are blocked, mapped to a category.
 *
 * @return array<string,string>
 */
function samtycke_builtin_hosts() {
	return array_map(
		function ( $rule ) {
			return $rule[0];
		},
		samtycke_builtin_host_rules()
	);
}

/**
 * Text that marks inline code as a tracker's even when it names no host:
 * category and whose code it is.
 *
 * @return array<string,array{0:string,1:string}>
 */
function samtycke_builtin_markers() {
	return array(
		'gtag('                => array( 'statistics', 'Google Analytics (gtag.js)' ),
		'mi_track_user'        => array( 'statistics', 'MonsterInsights' ),
		'__gtagTracker'        => array( 'statistics', 'MonsterInsights' ),
		'_gaq.push'            => array( 'statistics', 'Google Analytics (ga.js)' ),
		'_paq.push'            => array( 'statistics', 'Matomo' ),
		'_mtm.push'            => array( 'statistics', 'Matomo Tag Manager' ),
		'fbq('                 => array( 'marketing', 'Meta pixel' ),
		'ttq.'                 => array( 'marketing', 'TikTok pixel' ),
		'pintrk('              => array( 'marketing', 'Pinterest Tag' ),
		'_linkedin_partner_id' => array( 'marketing', 'LinkedIn Insight Tag' ),
		'lintrk('              => array( 'marketing', 'LinkedIn Insight Tag' ),
	);
}

/**
 * All handle rules: the built-in ones and the owner's (which win).
 *
 * @return array<string,string>
 */
function samtycke_handle_rules() {
	$own = get_option( 'samtycke_scripts', array() );
	if ( ! is_array( $own ) ) {
		$own = array();
	}
	return array_merge( samtycke_builtin_handles(), $own );
}

/**
 * All host rules: the owner's (option samtycke_hosts, which win) and the
 * built-in ones.
 *
 * @return array<string,string>
 */
function samtycke_host_rules() {
	$own = get_option( 'samtycke_hosts', array() );
	if ( ! is_array( $own ) ) {
		$own = array();
	}
	// The owner's first: the first rule that matches decides.
	return $own + samtycke_builtin_hosts();
}

/**
 * The value of the first rule that holds a URL: a rule is a host, or a
 * host and a path prefix.
 *
 * @param string $url   A script or iframe address.
 * @param array  $rules Host (or host/path) => value.
 * @return mixed|null
 */
function samtycke_match_url( $url, $rules ) {
	$host = wp_parse_url( $url, PHP_URL_HOST );
	if ( ! is_string( $host ) ) {
		return null;
	}
	$host = strtolower( $host );
	$path = wp_parse_url( $url, PHP_URL_PATH );
	$path = is_string( $path ) ? $path : '/';
	foreach ( $rules as $key => $value ) {
		$key   = (string) $key;
		$slash = strpos( $key, '/' );
		if ( false === $slash ? $key === $host : ( substr( $key, 0, $slash ) === $host && 0 === strpos( $path, substr( $key, $slash ) ) ) ) {
			return $value;
		}
	}
	return null;
}

/**
 * The category for a URL's host, or '' when none of the rules names it.
 *
 * @param string $url A script or iframe address.
 * @return string
 */
function samtycke_category_for_url( $url ) {
	return (string) samtycke_match_url( $url, samtycke_host_rules() );
}

/**
 * Who serves a URL ('' when none of the rules names its host).
 *
 * @param string $url A script or iframe address.
 * @return string
 */
function samtycke_provider_for_url( $url ) {
	$rule = samtycke_match_url( $url, samtycke_builtin_host_rules() );
	return is_array( $rule ) ? $rule[1] : '';
}

/**
 * The category for inline code that loads or calls a tracker, or ''.
 *
 * @param string $code A script's text.
 * @return string
 */
function samtycke_category_for_code( $code ) {
	foreach ( samtycke_host_rules() as $host => $category ) {
		if ( false !== stripos( $code, (string) $host ) ) {
			return $category;
		}
	}
	foreach ( samtycke_builtin_markers() as $marker => $rule ) {
		if ( false !== strpos( $code, $marker ) ) {
			return $rule[0];
		}
	}
	return '';
}
