<?php
/**
 * Removes the plugin's options, on every site of a network.
 *
 * @package Samtycke
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

$samtycke_options = array( 'samtycke_server_url', 'samtycke_site_id', 'samtycke_scripts', 'samtycke_hosts', 'samtycke_api_token' );
if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids' ) ) as $samtycke_blog ) {
		switch_to_blog( $samtycke_blog );
		foreach ( $samtycke_options as $samtycke_option ) {
			delete_option( $samtycke_option );
		}
		restore_current_blog();
	}
} else {
	foreach ( $samtycke_options as $samtycke_option ) {
		delete_option( $samtycke_option );
	}
}
