<?php
/**
 * Import of a Real Cookie Banner settings export (Settings → Import/Export →
 * Export, a JSON file) into the site's Samtycke draft: its service groups
 * become categories, each technical definition of a service an item.
 *
 * @package Samtycke
 */

defined( 'ABSPATH' ) || exit;

/**
 * The Samtycke category for a Real Cookie Banner group. Its groups are named
 * in the site's language when it is installed (Essential, Funktionella…),
 * so they are known by their words; its essential group is the one its own
 * service is in. Other groups keep their slug as the id.
 *
 * @param string $slug      The group's slug.
 * @param string $name      The group's name.
 * @param string $essential The slug of the group of Real Cookie Banner's own service.
 * @return string
 */
function samtycke_rcb_category( $slug, $name, $essential ) {
	if ( '' !== $slug && $slug === $essential ) {
		return 'necessary';
	}
	$words = array(
		'necessary'   => array( 'essen', 'necess', 'nodvand', 'nödvänd', 'notwendig' ),
		'preferences' => array( 'func', 'funk', 'prefer', 'inställning', 'installning' ),
		'statistics'  => array( 'stat', 'analy' ),
		'marketing'   => array( 'market', 'marknad', 'werbung', 'advert' ),
	);
	$text = function_exists( 'mb_strtolower' ) ? mb_strtolower( $slug . ' ' . $name ) : strtolower( $slug . ' ' . $name );
	foreach ( $words as $category => $stems ) {
		foreach ( $stems as $stem ) {
			if ( false !== strpos( $text, $stem ) ) {
				return $category;
			}
		}
	}
	return substr( preg_replace( '/[^a-z0-9_]/', '_', strtolower( $slug ) ), 0, 32 );
}

/**
 * The EEA's countries: data processed there is no third-country transfer.
 *
 * @return string[]
 */
function samtycke_eea_countries() {
	return array( 'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO' );
}

/**
 * An ISO 8601 duration (or 'session', 'persistent') for a technical
 * definition's lifetime.
 *
 * @param array $def A technical definition.
 * @return string
 */
function samtycke_rcb_duration( $def ) {
	if ( ! empty( $def['isSessionDuration'] ) ) {
		return 'session';
	}
	$n = isset( $def['duration'] ) ? (int) $def['duration'] : 0;
	if ( $n <= 0 ) {
		// Storage without an expiry (local storage, IndexedDB) is kept until deleted.
		return 'http' === ( $def['type'] ?? 'http' ) ? 'session' : 'persistent';
	}
	$units = array(
		's'  => 'PT%dS',
		'm'  => 'PT%dM',
		'h'  => 'PT%dH',
		'd'  => 'P%dD',
		'mo' => 'P%dM',
		'y'  => 'P%dY',
	);
	$unit = is_string( $def['durationUnit'] ?? null ) ? $def['durationUnit'] : 'y';
	return sprintf( $units[ $unit ] ?? 'P%dY', $n );
}

/**
 * Merges a Real Cookie Banner export into a Samtycke configuration.
 *
 * @param mixed  $export The decoded export.
 * @param array  $config The draft's configuration.
 * @param string $home   This site's host (first-party storage lives there).
 * @return array{config:array,added:int,services:int,skipped:string[]}|WP_Error
 */
function samtycke_rcb_import( $export, $config, $home ) {
	if ( ! is_array( $export ) || ! isset( $export['cookies'] ) || ! is_array( $export['cookies'] ) ) {
		return new WP_Error( 'samtycke_rcb_format', __( 'This is not a Real Cookie Banner export: it has no "cookies" list. Export with the services (cookies) and groups ticked.', 'samtycke' ) );
	}
	$lang   = is_string( $config['default_language'] ?? null ) ? $config['default_language'] : 'sv';
	$groups = array();
	foreach ( ( is_array( $export['cookieGroups'] ?? null ) ? $export['cookieGroups'] : array() ) as $group ) {
		if ( is_array( $group ) && isset( $group['slug'] ) && is_string( $group['slug'] ) ) {
			$groups[ $group['slug'] ] = $group;
		}
	}
	$config['categories'] = is_array( $config['categories'] ?? null ) ? $config['categories'] : array();
	$config['items']      = is_array( $config['items'] ?? null ) ? $config['items'] : array();
	$have_category        = array();
	foreach ( $config['categories'] as $category ) {
		$have_category[ $category['id'] ?? '' ] = true;
	}
	$have_item = array();
	foreach ( $config['items'] as $item ) {
		$have_item[ ( $item['type'] ?? '' ) . "\n" . ( $item['name'] ?? '' ) . "\n" . ( $item['domain'] ?? '' ) ] = true;
	}
	$types   = array(
		'http'      => 'cookie',
		'local'     => 'local_storage',
		'session'   => 'session_storage',
		'indexedDb' => 'indexeddb',
	);
	$eea       = samtycke_eea_countries();
	$essential = '';
	foreach ( $export['cookies'] as $service ) {
		if ( is_array( $service ) && 'real-cookie-banner' === ( $service['post_name'] ?? '' ) && is_string( $service['group'] ?? null ) ) {
			$essential = $service['group'];
		}
	}
	$added   = 0;
	$served  = 0;
	$skipped = array();
	foreach ( $export['cookies'] as $service ) {
		if ( ! is_array( $service ) || ! is_string( $service['post_title'] ?? null ) || ! is_array( $service['metas'] ?? null ) ) {
			$skipped[] = __( 'a service without a name or details', 'samtycke' );
			continue;
		}
		$title = $service['post_title'];
		// Real Cookie Banner's own cookies are replaced by Samtycke's.
		if ( 'real-cookie-banner' === ( $service['post_name'] ?? '' ) ) {
			continue;
		}
		if ( 'publish' !== ( $service['post_status'] ?? 'publish' ) ) {
			/* translators: %s: a service's name */
			$skipped[] = sprintf( __( '%s (not published)', 'samtycke' ), $title );
			continue;
		}
		$slug     = is_string( $service['group'] ?? null ) ? $service['group'] : '';
		$gname    = is_string( $groups[ $slug ]['name'] ?? null ) ? $groups[ $slug ]['name'] : '';
		$category = samtycke_rcb_category( $slug, $gname, $essential );
		if ( ! preg_match( '/^[a-z][a-z0-9_]{0,31}$/', $category ) ) {
			/* translators: %s: a service's name */
			$skipped[] = sprintf( __( '%s (no usable group)', 'samtycke' ), $title );
			continue;
		}
		if ( empty( $have_category[ $category ] ) ) {
			$group                  = $groups[ $slug ] ?? array();
			$name                   = is_string( $group['name'] ?? null ) && '' !== $group['name'] ? $group['name'] : ucfirst( $category );
			$text                   = is_string( $group['description'] ?? null ) && '' !== trim( wp_strip_all_tags( $group['description'] ) ) ? trim( wp_strip_all_tags( $group['description'] ) ) : $name;
			$config['categories'][] = array(
				'id'          => $category,
				'title'       => array( $lang => $name ),
				'description' => array( $lang => $text ),
			);
			$have_category[ $category ] = true;
		}
		$metas     = $service['metas'];
		$provider  = is_string( $metas['provider'] ?? null ) && '' !== trim( $metas['provider'] ) ? trim( $metas['provider'] ) : $title;
		$purpose   = trim( wp_strip_all_tags( is_string( $service['post_content'] ?? null ) ? $service['post_content'] : '' ) );
		$purpose   = '' === $purpose ? $title : $title . ': ' . $purpose;
		$countries = array();
		foreach ( ( is_array( $metas['dataProcessingInCountries'] ?? null ) ? $metas['dataProcessingInCountries'] : array() ) as $country ) {
			$country = is_string( $country ) ? strtoupper( $country ) : '';
			if ( preg_match( '/^[A-Z]{2}$/', $country ) && ! in_array( $country, $eea, true ) ) {
				$countries[ $country ] = true;
			}
		}
		$third_country = array( 'transfer' => count( $countries ) > 0 );
		if ( $countries ) {
			$third_country['countries'] = array_slice( array_keys( $countries ), 0, 50 );
		}
		$defs = is_array( $metas['technicalDefinitions'] ?? null ) ? $metas['technicalDefinitions'] : array();
		$got  = 0;
		foreach ( $defs as $def ) {
			$kind = is_array( $def ) ? ( $def['type'] ?? 'http' ) : null;
			$type = is_string( $kind ) ? ( $types[ $kind ] ?? '' ) : '';
			$name = is_array( $def ) && is_string( $def['name'] ?? null ) ? trim( $def['name'] ) : '';
			if ( '' === $type || '' === $name ) {
				/* translators: %s: a service's name */
				$skipped[] = sprintf( __( '%s: a definition of an unknown kind', 'samtycke' ), $title );
				continue;
			}
			$host  = strtolower( ltrim( is_string( $def['host'] ?? null ) ? trim( $def['host'] ) : '', '.' ) );
			$first = '' === $host || $host === $home || str_ends_with( $home, '.' . $host );
			$item  = array(
				'name'          => substr( $name, 0, 200 ),
				'type'          => $type,
				'provider'      => substr( $provider, 0, 200 ),
				'party'         => $first ? 'first' : 'third',
				'category'      => $category,
				'purpose'       => array( $lang => substr( $purpose, 0, 4000 ) ),
				'duration'      => samtycke_rcb_duration( $def ),
				'third_country' => $third_country,
			);
			if ( ! $first ) {
				$item['domain'] = substr( $host, 0, 253 );
			}
			$key = $type . "\n" . $item['name'] . "\n" . ( $item['domain'] ?? '' );
			if ( ! empty( $have_item[ $key ] ) ) {
				/* translators: %s: a cookie's name */
				$skipped[] = sprintf( __( '%s (already in the draft)', 'samtycke' ), $item['name'] );
				continue;
			}
			$have_item[ $key ] = true;
			$config['items'][] = $item;
			++$added;
			++$got;
		}
		if ( 0 === $got && 0 === count( $defs ) ) {
			/* translators: %s: a service's name */
			$skipped[] = sprintf( __( '%s (lists no cookies)', 'samtycke' ), $title );
		}
		$served += $got > 0 ? 1 : 0;
	}
	return array(
		'config'   => $config,
		'added'    => $added,
		'services' => $served,
		'skipped'  => $skipped,
	);
}

/**
 * Reads the draft with the token, merges the export and saves it (If-Match:
 * the draft as read, so that a change made meanwhile is not overwritten).
 *
 * @param string $json  The export's text.
 * @param string $token An API token of the site (editor or owner).
 * @return string|WP_Error What was done, in words.
 */
function samtycke_import_rcb_into_draft( $json, $token ) {
	$server = rtrim( (string) get_option( 'samtycke_server_url', '' ), '/' );
	$site   = (string) get_option( 'samtycke_site_id', '' );
	if ( '' === $server || '' === $site ) {
		return new WP_Error( 'samtycke_settings', __( 'Enter the Samtycke server and the site id first.', 'samtycke' ) );
	}
	if ( '' === $token ) {
		return new WP_Error( 'samtycke_token', __( 'The import needs an API token of the site with the editor or owner role (Samtycke dashboard → the site → Tokens).', 'samtycke' ) );
	}
	$export = json_decode( $json, true );
	if ( null === $export ) {
		/* translators: %s: the JSON parser's message */
		return new WP_Error( 'samtycke_json', sprintf( __( 'The file is not JSON: %s', 'samtycke' ), json_last_error_msg() ) );
	}
	$url     = $server . '/v1/sites/' . rawurlencode( $site ) . '/draft';
	$headers = array( 'Authorization' => 'Bearer ' . $token );
	$res     = wp_remote_get(
		$url,
		array(
			'timeout' => 10,
			'headers' => $headers,
		)
	);
	if ( is_wp_error( $res ) ) {
		return $res;
	}
	$status = (int) wp_remote_retrieve_response_code( $res );
	if ( 200 !== $status ) {
		/* translators: 1: HTTP status, 2: the server's message */
		return new WP_Error( 'samtycke_draft', sprintf( __( 'The draft could not be read (%1$d): %2$s', 'samtycke' ), $status, samtycke_api_message( $res ) ) );
	}
	$draft  = json_decode( wp_remote_retrieve_body( $res ), true );
	$etag   = (string) wp_remote_retrieve_header( $res, 'etag' );
	$config = is_array( $draft['config'] ?? null ) ? $draft['config'] : null;
	if ( null === $config || '' === $etag ) {
		return new WP_Error( 'samtycke_draft', __( 'The server sent no draft.', 'samtycke' ) );
	}
	$home   = strtolower( (string) wp_parse_url( home_url(), PHP_URL_HOST ) );
	$result = samtycke_rcb_import( $export, $config, $home );
	if ( is_wp_error( $result ) ) {
		return $result;
	}
	$save   = wp_remote_request(
		$url,
		array(
			'method'  => 'PUT',
			'timeout' => 10,
			'headers' => $headers + array(
				'Content-Type' => 'application/json',
				'If-Match'     => $etag,
			),
			'body'    => wp_json_encode( $result['config'] ),
		)
	);
	$status = is_wp_error( $save ) ? 0 : (int) wp_remote_retrieve_response_code( $save );
	if ( 200 !== $status ) {
		/* translators: %s: the server's message */
		return new WP_Error( 'samtycke_draft', sprintf( __( 'The draft could not be saved: %s', 'samtycke' ), is_wp_error( $save ) ? $save->get_error_message() : samtycke_api_message( $save ) ) );
	}
	/* translators: 1: number of items, 2: number of services, 3: site id */
	$message = sprintf( __( 'Imported %1$d items of %2$d services into the draft of "%3$s". Check it in the Samtycke dashboard (translations, purposes) and publish it there.', 'samtycke' ), $result['added'], $result['services'], $site );
	if ( $result['skipped'] ) {
		/* translators: %s: a list */
		$message .= ' ' . sprintf( __( 'Left out: %s.', 'samtycke' ), implode( '; ', $result['skipped'] ) );
	}
	return $message;
}

/**
 * The message of a management API error answer, or its status line.
 *
 * @param array $res A wp_remote_* response.
 * @return string
 */
function samtycke_api_message( $res ) {
	$body = json_decode( wp_remote_retrieve_body( $res ), true );
	if ( is_array( $body ) && is_string( $body['error']['message'] ?? null ) ) {
		return $body['error']['message'];
	}
	return (string) wp_remote_retrieve_response_message( $res );
}

/**
 * admin-post.php?action=samtycke_import: the import form's target.
 */
function samtycke_handle_import() {
	if ( ! current_user_can( 'manage_options' ) ) {
		wp_die( esc_html__( 'You may not change these settings.', 'samtycke' ), 403 );
	}
	check_admin_referer( 'samtycke_import' );
	$json = '';
	// phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- a JSON file, decoded and checked field by field.
	$file = $_FILES['samtycke_rcb_file'] ?? null;
	if ( is_array( $file ) && isset( $file['tmp_name'], $file['error'] ) && UPLOAD_ERR_OK === $file['error'] && is_uploaded_file( $file['tmp_name'] ) ) {
		$json = (string) file_get_contents( $file['tmp_name'] ); // phpcs:ignore WordPress.WP.AlternativeFunctions
	} elseif ( isset( $_POST['samtycke_rcb_json'] ) ) {
		$json = wp_unslash( (string) $_POST['samtycke_rcb_json'] ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- JSON, decoded and checked.
	}
	$token = isset( $_POST['samtycke_import_token'] ) ? trim( sanitize_text_field( wp_unslash( (string) $_POST['samtycke_import_token'] ) ) ) : '';
	if ( '' === $token ) {
		$token = (string) get_option( 'samtycke_api_token', '' );
	}
	$result = '' === trim( $json ) ? new WP_Error( 'samtycke_json', __( 'Choose the export file first.', 'samtycke' ) ) : samtycke_import_rcb_into_draft( $json, $token );
	set_transient(
		'samtycke_import_' . get_current_user_id(),
		is_wp_error( $result ) ? array( 'error', $result->get_error_message() ) : array( 'success', $result ),
		300
	);
	wp_safe_redirect( admin_url( 'options-general.php?page=samtycke#samtycke-import' ) );
	exit;
}
