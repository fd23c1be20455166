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
		'google_gtagjs'                  => 'statistics', // Site Kit by Google.
		'monsterinsights-frontend-script' => 'statistics',
	);
}

/**
 * Hosts whose scripts and iframes are blocked, mapped to a category.
 *
 * @return array<string,string>
 */
function samtycke_builtin_hosts() {
	return array(
		'www.googletagmanager.com' => 'statistics',
		'www.google-analytics.com' => 'statistics',
		'connect.facebook.net'     => 'marketing',
		'static.hotjar.com'        => 'statistics',
		'www.clarity.ms'           => 'statistics',
		'snap.licdn.com'           => 'marketing',
		's.pinimg.com'             => 'marketing',
		'analytics.tiktok.com'     => 'marketing',
		'www.youtube.com'          => 'marketing',
		'www.youtube-nocookie.com' => 'marketing',
		'player.vimeo.com'         => 'marketing',
		'www.google.com'           => 'marketing', // Google Maps embeds.
		'open.spotify.com'         => 'marketing',
		'w.soundcloud.com'         => 'marketing',
		'www.instagram.com'        => 'marketing',
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
	$hosts = samtycke_builtin_hosts();
	return $hosts[ strtolower( $host ) ] ?? '';
}

/**
 * The category for inline code that loads or calls a tracker, or ''.
 *
 * @param string $code A script's text.
 * @return string
 */
function samtycke_category_for_code( $code ) {
	foreach ( samtycke_builtin_hosts() as $host => $category ) {
		if ( false !== stripos( $code, $host ) ) {
			return $category;
		}
	}
	$markers = array(
		'gtag('     => 'statistics',
		'_paq.push' => 'statistics', // Matomo.
		'fbq('      => 'marketing',
		'ttq.'      => 'marketing',
		'pintrk('   => 'marketing',
	);
	foreach ( $markers as $marker => $category ) {
		if ( false !== strpos( $code, $marker ) ) {
			return $category;
		}
	}
	return '';
}
