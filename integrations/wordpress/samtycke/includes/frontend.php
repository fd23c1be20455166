<?php
/**
 * What visitors get: the banner tag, blocked scripts and iframes, the
 * declaration and the settings link.
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

/**
 * The banner script's address, or '' until both settings are filled in.
 *
 * @return string
 */
function samtycke_banner_url() {
	$server = rtrim( (string) get_option( 'samtycke_server_url', '' ), '/' );
	$site   = (string) get_option( 'samtycke_site_id', '' );
	if ( '' === $server || '' === $site ) {
		return '';
	}
	return $server . '/b/' . rawurlencode( $site ) . '.js';
}

/**
 * Prints the banner's script tag first in <head>. A security plugin that
 * sets a CSP nonce can hand it over with the samtycke_csp_nonce filter.
 */
function samtycke_print_banner() {
	$url = samtycke_banner_url();
	if ( '' === $url ) {
		return;
	}
	$nonce = (string) apply_filters( 'samtycke_csp_nonce', '' );
	printf(
		"<script src=\"%s\" async%s></script>\n",
		esc_url( $url ),
		'' === $nonce ? '' : ' nonce="' . esc_attr( $nonce ) . '"'
	);
}

/**
 * Makes a script tag inert until its category is granted: the banner runs
 * it then (type="text/plain" data-samtycke="CATEGORY").
 *
 * @param string $tag      One or more <script> elements.
 * @param string $category The consent category.
 * @return string
 */
function samtycke_make_inert( $tag, $category ) {
	return preg_replace_callback(
		'/<script\b([^>]*)>/i',
		function ( $m ) use ( $category ) {
			$attrs = $m[1];
			if ( false !== stripos( $attrs, 'data-samtycke' ) ) {
				return $m[0];
			}
			$module = (bool) preg_match( '/\btype\s*=\s*["\']?module/i', $attrs );
			$attrs  = preg_replace( '/\stype\s*=\s*(["\'])[^"\']*\1/i', '', $attrs );
			$extra  = $module ? ' data-type="module"' : '';
			return '<script type="text/plain" data-samtycke="' . esc_attr( $category ) . '"' . $extra . $attrs . '>';
		},
		$tag
	);
}

/**
 * script_loader_tag: blocks enqueued scripts by handle or by source host,
 * with their inline snippets (wp_add_inline_script), which WordPress
 * passes in the same tag.
 *
 * @param string $tag    The script elements.
 * @param string $handle The script's handle.
 * @return string
 */
function samtycke_filter_script_tag( $tag, $handle ) {
	$rules    = samtycke_handle_rules();
	$category = $rules[ $handle ] ?? '';
	if ( '' === $category && preg_match( '/\ssrc=["\']([^"\']+)/i', $tag, $m ) ) {
		$category = samtycke_category_for_url( $m[1] );
	}
	return '' === $category ? $tag : samtycke_make_inert( $tag, $category );
}

/**
 * Moves the src of iframes from known providers to data-samtycke-src, so
 * that the banner shows a placeholder until their category is granted.
 *
 * @param string $html Embed or block HTML.
 * @return string
 */
function samtycke_block_iframes( $html ) {
	if ( ! is_string( $html ) || false === stripos( $html, '<iframe' ) ) {
		return $html;
	}
	return preg_replace_callback(
		'/<iframe\b([^>]*)>/i',
		function ( $m ) {
			$attrs = $m[1];
			if ( false !== stripos( $attrs, 'data-samtycke' ) || ! preg_match( '/\ssrc=(["\'])([^"\']+)\1/i', $attrs, $src ) ) {
				return $m[0];
			}
			$category = samtycke_category_for_url( html_entity_decode( $src[2] ) );
			if ( '' === $category ) {
				return $m[0];
			}
			$attrs    = str_replace( $src[0], ' data-samtycke-src=' . $src[1] . $src[2] . $src[1], $attrs );
			$provider = samtycke_provider_for_url( html_entity_decode( $src[2] ) );
			if ( '' !== $provider && false === stripos( $attrs, 'data-samtycke-provider' ) ) {
				$attrs = ' data-samtycke-provider="' . esc_attr( $provider ) . '"' . $attrs;
			}
			return '<iframe data-samtycke="' . esc_attr( $category ) . '"' . $attrs . '>';
		},
		$html
	);
}

/**
 * [samtycke_declaration]: the site's cookie declaration, filled in by the banner.
 *
 * @return string
 */
function samtycke_declaration_shortcode() {
	return '<div data-samtycke-declaration></div>';
}

/**
 * [samtycke_settings]: a link that opens the visitor's cookie settings.
 *
 * @param array|string $atts Shortcode attributes (text).
 * @return string
 */
function samtycke_settings_shortcode( $atts ) {
	$atts = shortcode_atts( array( 'text' => __( 'Cookie settings', 'samtycke' ) ), $atts );
	return '<a href="#" data-samtycke-open>' . esc_html( $atts['text'] ) . '</a>';
}

/**
 * The declaration as a block, rendered on the server (no build step).
 */
function samtycke_register_block() {
	register_block_type(
		'samtycke/declaration',
		array( 'render_callback' => 'samtycke_declaration_shortcode' )
	);
}

/**
 * Starts collecting what other plugins print in wp_head or wp_footer:
 * many trackers (MonsterInsights' gtag, GA Google Analytics, Meta pixel,
 * Matomo, Hotjar, Clarity…) are printed there rather than enqueued.
 */
function samtycke_buffer_start() {
	ob_start();
}

/**
 * Ends the buffer and prints it with every known tracker script made inert.
 */
function samtycke_buffer_end() {
	$html = (string) ob_get_clean();
	echo samtycke_block_printed_scripts( $html ); // phpcs:ignore WordPress.Security.EscapeOutput -- other plugins' markup, rewritten.
}

/**
 * Makes inert each <script> whose src host or inline code names a tracker.
 *
 * @param string $html Markup printed by other plugins.
 * @return string
 */
function samtycke_block_printed_scripts( $html ) {
	if ( false === stripos( $html, '<script' ) ) {
		return $html;
	}
	return preg_replace_callback(
		'/<script\b([^>]*)>(.*?)<\/script>/is',
		function ( $m ) {
			// Already handled, or data (JSON-LD, templates) rather than code.
			if ( false !== stripos( $m[1], 'data-samtycke' ) ||
				( preg_match( '/\stype=["\']?([^"\'\s>]+)/i', $m[1], $type ) && ! preg_match( '/javascript|module/i', $type[1] ) ) ) {
				return $m[0];
			}
			$category = '';
			if ( preg_match( '/\ssrc=["\']?([^"\'\s>]+)/i', $m[1], $src ) ) {
				$url      = str_starts_with( $src[1], '//' ) ? 'https:' . $src[1] : $src[1];
				$category = samtycke_category_for_url( $url );
			} else {
				$category = samtycke_category_for_code( $m[2] );
			}
			return '' === $category ? $m[0] : samtycke_make_inert( $m[0], $category );
		},
		$html
	);
}
