<?php
/**
 * Plugin Name:       Samtycke
 * Description:       Cookie consent from your Samtycke server: the banner first in <head>, trackers of common plugins and embeds blocked until consent.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       samtycke
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/includes/rules.php';
require_once __DIR__ . '/includes/frontend.php';
require_once __DIR__ . '/includes/admin.php';
require_once __DIR__ . '/includes/import.php';
require_once __DIR__ . '/includes/scans.php';

add_action( 'wp_head', 'samtycke_print_banner', 1 );
add_action( 'wp_head', 'samtycke_buffer_start', 2 );
add_action( 'wp_head', 'samtycke_buffer_end', PHP_INT_MAX );
add_action( 'wp_footer', 'samtycke_buffer_start', 0 );
add_action( 'wp_footer', 'samtycke_buffer_end', PHP_INT_MAX );
add_filter( 'script_loader_tag', 'samtycke_filter_script_tag', 10, 2 );
add_filter( 'embed_oembed_html', 'samtycke_block_iframes', 10, 1 );
add_filter( 'render_block', 'samtycke_block_iframes', 10, 1 );
add_shortcode( 'samtycke_declaration', 'samtycke_declaration_shortcode' );
add_shortcode( 'samtycke_settings', 'samtycke_settings_shortcode' );
add_action( 'init', 'samtycke_register_block' );
add_action( 'admin_menu', 'samtycke_admin_menu' );
add_action( 'admin_init', 'samtycke_register_settings' );
add_action( 'admin_init', 'samtycke_privacy_policy_content' );
add_action( 'admin_post_samtycke_import', 'samtycke_handle_import' );
add_action( 'admin_post_samtycke_add_finding', 'samtycke_handle_add_finding' );
