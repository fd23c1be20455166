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
 * (the name also heads an embed's placeholder).
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
		'www.google.com'           => array( 'marketing', 'Google Maps' ),
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
	return array_merge( samtycke_builtin_hosts(), $own );
}

/**
 * The category for a URL's host, or '' when none of the rules names it.
 *
 * @param string $url A script or iframe address.
 * @return string
 */
function samtycke_category_for_url( $url ) {
	$host = wp_parse_url( $url, PHP_URL_HOST );
	if ( ! is_string( $host ) ) {
		return '';
	}
	$hosts = samtycke_host_rules();
	return $hosts[ strtolower( $host ) ] ?? '';
}

/**
 * Who serves a URL ('' when none of the rules names its host).
 *
 * @param string $url A script or iframe address.
 * @return string
 */
function samtycke_provider_for_url( $url ) {
	$host = wp_parse_url( $url, PHP_URL_HOST );
	if ( ! is_string( $host ) ) {
		return '';
	}
	$rules = samtycke_builtin_host_rules();
	return $rules[ strtolower( $host ) ][1] ?? '';
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
