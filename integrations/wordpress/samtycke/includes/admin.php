<?php
/**
 * Settings → Samtycke.
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

/**
 * Adds Settings → Samtycke.
 */
function samtycke_admin_menu() {
	add_options_page( 'Samtycke', 'Samtycke', 'manage_options', 'samtycke', 'samtycke_settings_page' );
}

/**
 * Registers the plugin's options (per site on a multisite network).
 */
function samtycke_register_settings() {
	register_setting(
		'samtycke',
		'samtycke_server_url',
		array(
			'type'              => 'string',
			'sanitize_callback' => 'esc_url_raw',
			'default'           => '',
		)
	);
	register_setting(
		'samtycke',
		'samtycke_site_id',
		array(
			'type'              => 'string',
			'sanitize_callback' => 'sanitize_key',
			'default'           => '',
		)
	);
}

/**
 * The settings page: the two values the banner needs.
 */
function samtycke_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="wrap"><h1>Samtycke</h1><form method="post" action="options.php">';
	settings_fields( 'samtycke' );
	echo '<table class="form-table" role="presentation">';
	printf(
		'<tr><th scope="row"><label for="samtycke_server_url">%s</label></th><td><input type="url" class="regular-text" id="samtycke_server_url" name="samtycke_server_url" value="%s" placeholder="https://consent.example.se"></td></tr>',
		esc_html__( 'Samtycke server', 'samtycke' ),
		esc_attr( (string) get_option( 'samtycke_server_url', '' ) )
	);
	printf(
		'<tr><th scope="row"><label for="samtycke_site_id">%s</label></th><td><input type="text" class="regular-text" id="samtycke_site_id" name="samtycke_site_id" value="%s"></td></tr>',
		esc_html__( 'Site id', 'samtycke' ),
		esc_attr( (string) get_option( 'samtycke_site_id', '' ) )
	);
	echo '</table>';
	submit_button();
	echo '</form></div>';
}

/**
 * Suggests a paragraph for the site's privacy policy.
 */
function samtycke_privacy_policy_content() {
	if ( ! function_exists( 'wp_add_privacy_policy_content' ) ) {
		return;
	}
	$text = '<p>' . esc_html__( 'This site asks for your consent before it sets cookies or loads content that is not necessary. You can change or withdraw your choice at any time in the cookie settings; the cookie declaration lists every cookie with its purpose and lifetime.', 'samtycke' ) . '</p>[samtycke_declaration]';
	wp_add_privacy_policy_content( 'Samtycke', wp_kses_post( $text ) );
}
