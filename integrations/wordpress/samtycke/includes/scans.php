<?php
/**
 * The latest scan's findings on the settings page, read with the stored API
 * token, and their suggested declarations added to the site's draft.
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

/**
 * Calls the site's management API with the stored token.
 *
 * @param string     $method GET or POST.
 * @param string     $path   After /v1/sites/SITE.
 * @param array|null $body   A JSON body.
 * @return array|WP_Error A wp_remote_* response.
 */
function samtycke_api( $method, $path, $body = null ) {
	$server = rtrim( (string) get_option( 'samtycke_server_url', '' ), '/' );
	$site   = (string) get_option( 'samtycke_site_id', '' );
	$args   = array(
		'method'  => $method,
		// The settings page waits for the GET each time it opens.
		'timeout' => 'GET' === $method ? 5 : 10,
		'headers' => array( 'Authorization' => 'Bearer ' . (string) get_option( 'samtycke_api_token', '' ) ),
	);
	if ( null !== $body ) {
		$args['headers']['Content-Type'] = 'application/json';
		$args['body']                    = wp_json_encode( $body );
	}
	return wp_remote_request( $server . '/v1/sites/' . rawurlencode( $site ) . $path, $args );
}

/**
 * The dashboard's scans page of the site.
 *
 * @return string
 */
function samtycke_dashboard_scans_url() {
	return rtrim( (string) get_option( 'samtycke_server_url', '' ), '/' ) . '/admin/sites/' . rawurlencode( (string) get_option( 'samtycke_site_id', '' ) ) . '/scans';
}

/**
 * A finding's problems in words.
 *
 * @param array $finding One finding of the API's report.
 * @return string
 */
function samtycke_finding_words( $finding ) {
	$words = array(
		'undeclared'  => __( 'not declared', 'samtycke' ),
		'pre-consent' => __( 'set before consent', 'samtycke' ),
		'unseen'      => __( 'declared, never seen', 'samtycke' ),
	);
	$out = array();
	foreach ( (array) ( $finding['findings'] ?? array() ) as $f ) {
		$out[] = $words[ $f ] ?? (string) $f;
	}
	return implode( ', ', $out );
}

/**
 * Prints the section: the findings with an Add to draft button each, or
 * where to see them when there is no token.
 */
function samtycke_scan_section() {
	echo '<h2 id="samtycke-scan">' . esc_html__( 'Latest scan', 'samtycke' ) . '</h2>';
	$server = (string) get_option( 'samtycke_server_url', '' );
	$site   = (string) get_option( 'samtycke_site_id', '' );
	if ( '' === $server || '' === $site ) {
		return;
	}
	$done = get_transient( 'samtycke_scan_' . get_current_user_id() );
	if ( is_array( $done ) && 2 === count( $done ) ) {
		delete_transient( 'samtycke_scan_' . get_current_user_id() );
		printf( '<div class="notice notice-%s inline samtycke-scan-result"><p>%s</p></div>', 'success' === $done[0] ? 'success' : 'error', esc_html( (string) $done[1] ) );
	}
	$dashboard = sprintf(
		/* translators: %s: link to the dashboard */
		esc_html__( 'The scans and their reports are in the %s.', 'samtycke' ),
		'<a href="' . esc_url( samtycke_dashboard_scans_url() ) . '">' . esc_html__( 'Samtycke dashboard', 'samtycke' ) . '</a>'
	);
	if ( '' === (string) get_option( 'samtycke_api_token', '' ) ) {
		echo '<p class="samtycke-scan-none">' . wp_kses( $dashboard, array( 'a' => array( 'href' => array() ) ) ) . ' ' . esc_html__( 'With an API token above, this page shows the latest scan\'s findings.', 'samtycke' ) . '</p>';
		return;
	}
	$res    = samtycke_api( 'GET', '/scans/latest' );
	$status = is_wp_error( $res ) ? 0 : (int) wp_remote_retrieve_response_code( $res );
	$body   = is_wp_error( $res ) ? null : json_decode( wp_remote_retrieve_body( $res ), true );
	if ( 404 === $status && 'no_scans' === ( $body['error']['code'] ?? '' ) ) {
		echo '<p class="samtycke-scan-none">' . esc_html__( 'No scan of this site yet: samtycke scan --store (see the Samtycke README) checks what the site sets before and after consent.', 'samtycke' ) . ' ' . wp_kses( $dashboard, array( 'a' => array( 'href' => array() ) ) ) . '</p>';
		return;
	}
	if ( 200 !== $status || ! is_array( $body['findings'] ?? null ) ) {
		/* translators: %s: the server's message */
		printf( '<div class="notice notice-error inline"><p>%s</p></div>', esc_html( sprintf( __( 'The scans could not be read with the stored token: %s', 'samtycke' ), is_wp_error( $res ) ? $res->get_error_message() : samtycke_api_message( $res ) ) ) );
		return;
	}
	$when = strtotime( (string) ( $body['started_at'] ?? '' ) );
	/* translators: %s: date and time */
	echo '<p>' . esc_html( sprintf( __( 'Scanned %s.', 'samtycke' ), $when ? wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $when ) : '?' ) ) . ' ' . wp_kses( $dashboard, array( 'a' => array( 'href' => array() ) ) ) . '</p>';
	if ( ! $body['findings'] ) {
		echo '<p class="samtycke-scan-none">' . esc_html__( 'The scan found nothing to fix.', 'samtycke' ) . '</p>';
		return;
	}
	// An auditor's token reads the findings but may not change the draft:
	// no buttons that could only be refused.
	$me      = samtycke_api( 'GET', '' );
	$me_body = is_wp_error( $me ) ? null : json_decode( wp_remote_retrieve_body( $me ), true );
	$can_add = is_array( $me_body ) && in_array( $me_body['role'] ?? '', array( 'owner', 'editor' ), true );
	if ( ! $can_add ) {
		echo '<p class="samtycke-scan-readonly">' . esc_html__( 'The stored token may read the findings but not add them to the draft: store a token of the editor or owner role to add them here.', 'samtycke' ) . '</p>';
	}
	echo '<table class="widefat striped samtycke-findings" style="max-width:56em"><thead><tr><th>' . esc_html__( 'Found', 'samtycke' ) . '</th><th>' . esc_html__( 'Problem', 'samtycke' ) . '</th><th>' . esc_html__( 'Suggested declaration', 'samtycke' ) . '</th><th></th></tr></thead><tbody>';
	foreach ( $body['findings'] as $row => $f ) {
		if ( ! is_array( $f ) ) {
			continue;
		}
		$sug  = is_array( $f['suggestion'] ?? null ) ? $f['suggestion'] : null;
		echo '<tr><td>' . esc_html( (string) ( $f['kind'] ?? '' ) ) . ' <code>' . esc_html( (string) ( $f['name'] ?? '' ) ) . '</code></td><td>' . esc_html( samtycke_finding_words( $f ) ) . '</td><td>';
		if ( $sug ) {
			$lang    = (string) get_option( 'WPLANG', '' );
			$purpose = (array) ( $sug['purpose'] ?? array() );
			$text    = (string) ( $purpose[ substr( '' === $lang ? 'en' : $lang, 0, 2 ) ] ?? reset( $purpose ) );
			echo esc_html( (string) ( $sug['category'] ?? '' ) . ' · ' . (string) ( $f['lifetime'] ?? '' ) . ( '' === $text ? '' : ' · ' . $text ) );
		}
		echo '</td><td>';
		if ( $sug && ! empty( $f['in_draft'] ) ) {
			echo esc_html__( 'In the draft', 'samtycke' );
		} elseif ( $sug && $can_add ) {
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
			echo '<input type="hidden" name="action" value="samtycke_add_finding">';
			wp_nonce_field( 'samtycke_add_finding' );
			foreach ( array( 'type', 'name', 'domain' ) as $k ) {
				printf( '<input type="hidden" name="samtycke_%s" value="%s">', esc_attr( $k ), esc_attr( (string) ( $sug[ $k ] ?? '' ) ) );
			}
			printf( '<input type="hidden" name="samtycke_scan" value="%s">', esc_attr( (string) ( $body['id'] ?? '' ) ) );
			printf( '<button type="submit" class="button button-small" id="samtycke-add-%d">%s</button>', (int) $row, esc_html__( 'Add to draft', 'samtycke' ) );
			echo '</form>';
		}
		echo '</td></tr>';
	}
	echo '</tbody></table>';
}

/**
 * admin-post.php?action=samtycke_add_finding: adds one suggestion to the draft.
 */
function samtycke_handle_add_finding() {
	if ( ! current_user_can( 'manage_options' ) ) {
		wp_die( esc_html__( 'You may not change these settings.', 'samtycke' ), 403 );
	}
	check_admin_referer( 'samtycke_add_finding' );
	$field = function ( $k ) {
		return isset( $_POST[ 'samtycke_' . $k ] ) ? sanitize_text_field( wp_unslash( (string) $_POST[ 'samtycke_' . $k ] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification -- checked above.
	};
	$scan = $field( 'scan' );
	if ( ! preg_match( '/^[0-9a-f-]{36}$/i', $scan ) ) {
		$result = array( 'error', __( 'No such scan.', 'samtycke' ) );
	} else {
		$res    = samtycke_api(
			'POST',
			'/scans/' . $scan . '/add',
			array(
				'type'   => $field( 'type' ),
				'name'   => $field( 'name' ),
				'domain' => $field( 'domain' ),
			)
		);
		$status = is_wp_error( $res ) ? 0 : (int) wp_remote_retrieve_response_code( $res );
		if ( 201 === $status ) {
			/* translators: %s: a cookie's or host's name */
			$result = array( 'success', sprintf( __( 'Added %s to the draft. Check its purpose and category in the Samtycke dashboard, then publish.', 'samtycke' ), $field( 'name' ) ) );
		} else {
			/* translators: %s: the server's message */
			$result = array( 'error', sprintf( __( 'Not added: %s', 'samtycke' ), is_wp_error( $res ) ? $res->get_error_message() : samtycke_api_message( $res ) ) );
		}
	}
	set_transient( 'samtycke_scan_' . get_current_user_id(), $result, 300 );
	wp_safe_redirect( admin_url( 'options-general.php?page=samtycke#samtycke-scan' ) );
	exit;
}
