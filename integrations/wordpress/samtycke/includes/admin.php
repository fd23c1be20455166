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
	register_setting(
		'samtycke',
		'samtycke_scripts',
		array(
			'type'              => 'array',
			'sanitize_callback' => 'samtycke_sanitize_scripts',
			'default'           => array(),
		)
	);
	register_setting(
		'samtycke',
		'samtycke_hosts',
		array(
			'type'              => 'array',
			'sanitize_callback' => 'samtycke_sanitize_hosts',
			'default'           => array(),
		)
	);
	register_setting(
		'samtycke',
		'samtycke_api_token',
		array(
			'type'              => 'string',
			'sanitize_callback' => 'samtycke_sanitize_token',
			'default'           => '',
		)
	);
}

/**
 * Keeps the stored API token when the form's field is left empty (it is
 * never printed back), and forgets it when the owner asks to.
 *
 * @param mixed $value The submitted token.
 * @return string
 */
function samtycke_sanitize_token( $value ) {
	// phpcs:ignore WordPress.Security.NonceVerification -- options.php checked the settings form's nonce.
	if ( ! empty( $_POST['samtycke_forget_token'] ) ) {
		return '';
	}
	$value = trim( sanitize_text_field( (string) $value ) );
	return '' === $value ? (string) get_option( 'samtycke_api_token', '' ) : $value;
}

/**
 * Reads the owner's host rules, one "host = category" a line, into
 * host → category; a pasted address counts by its host.
 *
 * @param mixed $value The textarea's text, or an array already.
 * @return array<string,string>
 */
function samtycke_sanitize_hosts( $value ) {
	$hosts = array();
	foreach ( samtycke_sanitize_scripts( $value ) as $host => $category ) {
		$host = strtolower( trim( (string) $host ) );
		if ( str_contains( $host, '/' ) ) {
			$host = (string) wp_parse_url( str_starts_with( $host, '//' ) || str_contains( $host, '://' ) ? $host : '//' . $host, PHP_URL_HOST );
		}
		if ( preg_match( '/^[a-z0-9.-]+$/', $host ) ) {
			$hosts[ $host ] = $category;
		}
	}
	return $hosts;
}

/**
 * Reads the owner's rules, one "handle = category" a line, into handle → category.
 *
 * @param mixed $value The textarea's text, or an array already.
 * @return array<string,string>
 */
function samtycke_sanitize_scripts( $value ) {
	if ( is_array( $value ) ) {
		$lines = array();
		foreach ( $value as $handle => $category ) {
			$lines[] = $handle . '=' . $category;
		}
	} else {
		$lines = preg_split( '/\r\n|\r|\n/', (string) $value );
	}
	$rules = array();
	foreach ( $lines as $line ) {
		$parts = array_map( 'trim', explode( '=', (string) $line, 2 ) );
		if ( 2 === count( $parts ) && '' !== $parts[0] && '' !== sanitize_key( $parts[1] ) ) {
			$rules[ sanitize_text_field( $parts[0] ) ] = sanitize_key( $parts[1] );
		}
	}
	return $rules;
}

/**
 * The settings page: the two values the banner needs.
 */
function samtycke_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$check = samtycke_check_settings();
	echo '<div class="wrap"><h1>Samtycke</h1>';
	printf( '<div class="notice notice-%s inline"><p>%s</p></div>', $check['ok'] ? 'success' : 'error', esc_html( $check['message'] ) );
	echo '<p>' . esc_html__( 'Two values from the Samtycke dashboard are all the banner needs: the server\'s address and the site id. The page checks them each time it opens.', 'samtycke' ) . '</p>';
	echo '<form method="post" action="options.php">';
	settings_fields( 'samtycke' );
	echo '<table class="form-table" role="presentation">';
	printf(
		'<tr><th scope="row"><label for="samtycke_server_url">%s</label></th><td><input type="url" class="regular-text" id="samtycke_server_url" name="samtycke_server_url" value="%s" placeholder="https://consent.example.se"></td></tr>',
		esc_html__( 'Samtycke server', 'samtycke' ),
		esc_attr( (string) get_option( 'samtycke_server_url', '' ) )
	);
	printf(
		'<tr><th scope="row"><label for="samtycke_site_id">%s</label></th><td><input type="text" class="regular-text" id="samtycke_site_id" name="samtycke_site_id" value="%s" aria-describedby="samtycke_site_id_help"><p class="description" id="samtycke_site_id_help">%s</p></td></tr>',
		esc_html__( 'Site id', 'samtycke' ),
		esc_attr( (string) get_option( 'samtycke_site_id', '' ) ),
		esc_html__( 'As in the dashboard\'s snippet: …/b/SITE-ID.js', 'samtycke' )
	);
	$own = get_option( 'samtycke_scripts', array() );
	$own = is_array( $own ) ? $own : array();
	$text = '';
	foreach ( $own as $handle => $category ) {
		$text .= $handle . ' = ' . $category . "\n";
	}
	printf(
		'<tr><th scope="row"><label for="samtycke_scripts">%s</label></th><td><textarea class="large-text code" rows="4" id="samtycke_scripts" name="samtycke_scripts" placeholder="my-pixel = marketing">%s</textarea><p class="description">%s</p></td></tr>',
		esc_html__( 'Your own script rules', 'samtycke' ),
		esc_textarea( $text ),
		esc_html__( 'One script handle = consent category a line; they are added to the built-in rules below.', 'samtycke' )
	);
	$own  = get_option( 'samtycke_hosts', array() );
	$own  = is_array( $own ) ? $own : array();
	$text = '';
	foreach ( $own as $host => $category ) {
		$text .= $host . ' = ' . $category . "\n";
	}
	printf(
		'<tr><th scope="row"><label for="samtycke_hosts">%s</label></th><td><textarea class="large-text code" rows="4" id="samtycke_hosts" name="samtycke_hosts" placeholder="widget.example.com = marketing">%s</textarea><p class="description">%s</p></td></tr>',
		esc_html__( 'Your own host rules', 'samtycke' ),
		esc_textarea( $text ),
		esc_html__( 'One host = consent category a line: scripts and iframes from that host wait for the category, before the built-in rules.', 'samtycke' )
	);
	$token = (string) get_option( 'samtycke_api_token', '' );
	printf(
		'<tr><th scope="row"><label for="samtycke_api_token">%s</label></th><td><input type="password" class="regular-text" id="samtycke_api_token" name="samtycke_api_token" autocomplete="off" aria-describedby="samtycke_api_token_help"><p class="description" id="samtycke_api_token_help">%s</p>%s</td></tr>',
		esc_html__( 'API token (optional)', 'samtycke' ),
		'' === $token
			? esc_html__( 'A token of this site with the editor role (Samtycke dashboard → the site → Tokens): with it, this page shows the latest scan\'s findings and adds their suggested declarations to the draft.', 'samtycke' )
			/* translators: %s: the token's last four characters */
			: esc_html( sprintf( __( 'A token ending in …%s is stored. Leave the field empty to keep it, or enter another.', 'samtycke' ), substr( $token, -4 ) ) ),
		'' === $token ? '' : '<label><input type="checkbox" name="samtycke_forget_token" value="1"> ' . esc_html__( 'Forget the stored token', 'samtycke' ) . '</label>'
	);
	echo '</table>';
	submit_button();
	echo '</form>';
	echo '<h2>' . esc_html__( 'Built-in rules', 'samtycke' ) . '</h2><p>' . esc_html__( 'These scripts and embeds wait for their category without any setting; the first rule that matches decides.', 'samtycke' ) . '</p>';
	echo '<table class="widefat striped" style="max-width:56em"><thead><tr><th>' . esc_html__( 'Blocked when', 'samtycke' ) . '</th><th>' . esc_html__( 'Whose', 'samtycke' ) . '</th><th>' . esc_html__( 'Category', 'samtycke' ) . '</th></tr></thead><tbody>';
	$rows  = array();
	$names = array(
		'google_gtagjs'                   => 'Site Kit by Google',
		'monsterinsights-frontend-script' => 'MonsterInsights',
		'tt4b_ajax_script'                => 'TikTok for WooCommerce',
	);
	foreach ( samtycke_builtin_handles() as $handle => $category ) {
		/* translators: %s: a script handle */
		$rows[] = array( sprintf( __( 'script handle %s', 'samtycke' ), '<code>' . esc_html( $handle ) . '</code>' ), $names[ $handle ] ?? '', $category );
	}
	foreach ( samtycke_builtin_host_rules() as $host => $rule ) {
		/* translators: %s: a host name */
		$rows[] = array( sprintf( __( 'script or iframe from %s', 'samtycke' ), '<code>' . esc_html( $host ) . '</code>' ), $rule[1], $rule[0] );
	}
	foreach ( samtycke_builtin_markers() as $marker => $rule ) {
		/* translators: %s: a piece of JavaScript */
		$rows[] = array( sprintf( __( 'inline script containing %s', 'samtycke' ), '<code>' . esc_html( $marker ) . '</code>' ), $rule[1], $rule[0] );
	}
	foreach ( $rows as $row ) {
		printf( '<tr><td>%s</td><td>%s</td><td>%s</td></tr>', wp_kses( $row[0], array( 'code' => array() ) ), esc_html( $row[1] ), esc_html( $row[2] ) );
	}
	echo '</tbody></table><h2>' . esc_html__( 'What is not blocked', 'samtycke' ) . '</h2><ul style="list-style:disc;padding-left:2em;max-width:56em">';
	$gaps = array(
		__( 'Scripts and iframes that a theme or page builder writes into its own markup instead of wp_head, wp_footer, enqueued scripts, embeds and blocks.', 'samtycke' ),
		__( 'Trackers not in the table: add their script handle under "Your own script rules" or their host under "Your own host rules", or mark the tag yourself with type="text/plain" data-samtycke="CATEGORY".', 'samtycke' ),
		__( 'What an allowed script loads in turn: a Google Tag Manager container runs the tags configured in it.', 'samtycke' ),
		__( 'Tracking pixels in <noscript> (shown only without JavaScript) and images.', 'samtycke' ),
		__( 'The dns-prefetch hints WordPress adds for enqueued hosts (they send no request to the tracker).', 'samtycke' ),
	);
	foreach ( $gaps as $gap ) {
		echo '<li>' . esc_html( $gap ) . '</li>';
	}
	echo '</ul>';
	samtycke_scan_section();
	samtycke_import_form();
	echo '</div>';
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

/**
 * Asks the Samtycke server whether the settings work: the banner script,
 * the site's notice, and whether this site's origin may record consents.
 *
 * @return array{ok:bool,message:string}
 */
function samtycke_check_settings() {
	$server = rtrim( (string) get_option( 'samtycke_server_url', '' ), '/' );
	$site   = (string) get_option( 'samtycke_site_id', '' );
	if ( '' === $server || '' === $site ) {
		return array( 'ok' => false, 'message' => __( 'Enter the Samtycke server and the site id: no banner is shown until both are set.', 'samtycke' ) );
	}
	$banner = wp_remote_get( $server . '/b/' . rawurlencode( $site ) . '.js', array( 'timeout' => 5 ) );
	if ( is_wp_error( $banner ) ) {
		/* translators: 1: server URL, 2: error */
		return array( 'ok' => false, 'message' => sprintf( __( 'The Samtycke server %1$s cannot be reached: %2$s', 'samtycke' ), $server, $banner->get_error_message() ) );
	}
	$status = (int) wp_remote_retrieve_response_code( $banner );
	if ( 404 === $status ) {
		/* translators: 1: site id, 2: server URL */
		return array( 'ok' => false, 'message' => sprintf( __( 'Unknown site: %2$s has no published site "%1$s". Check the site id in the dashboard, and publish the site once.', 'samtycke' ), $site, $server ) );
	}
	if ( 200 !== $status ) {
		/* translators: %d: HTTP status */
		return array( 'ok' => false, 'message' => sprintf( __( 'The server answered %d for the banner script.', 'samtycke' ), $status ) );
	}
	$notice = wp_remote_get( $server . '/s/' . rawurlencode( $site ) . '/cookies.json', array( 'timeout' => 5 ) );
	if ( is_wp_error( $notice ) || 200 !== (int) wp_remote_retrieve_response_code( $notice ) ) {
		return array( 'ok' => false, 'message' => __( 'The banner loads, but the site\'s cookie notice does not.', 'samtycke' ) );
	}
	// A visitor's own history answers 403 for pages of an origin the site
	// does not allow, which is what the banner's consents would get too.
	$home   = wp_parse_url( home_url() );
	$origin = $home['scheme'] . '://' . $home['host'] . ( isset( $home['port'] ) ? ':' . $home['port'] : '' );
	$probe  = wp_remote_get(
		$server . '/v1/consents/00000000-0000-4000-8000-000000000000?site=' . rawurlencode( $site ),
		array(
			'timeout' => 5,
			'headers' => array( 'Origin' => $origin ),
		)
	);
	if ( ! is_wp_error( $probe ) && 403 === (int) wp_remote_retrieve_response_code( $probe ) ) {
		/* translators: %s: this site's origin */
		return array( 'ok' => false, 'message' => sprintf( __( 'Origin not allowed: add %s to the site\'s allowed origins in the Samtycke dashboard, then publish.', 'samtycke' ), $origin ) );
	}
	return array( 'ok' => true, 'message' => __( 'The banner and the cookie notice load from the server.', 'samtycke' ) );
}

/**
 * The import of a Real Cookie Banner export, into the site's draft.
 */
function samtycke_import_form() {
	echo '<h2 id="samtycke-import">' . esc_html__( 'Import from Real Cookie Banner', 'samtycke' ) . '</h2>';
	// The last import's outcome, shown once, where the form sends its user back to.
	$import = get_transient( 'samtycke_import_' . get_current_user_id() );
	if ( is_array( $import ) && 2 === count( $import ) ) {
		delete_transient( 'samtycke_import_' . get_current_user_id() );
		printf( '<div class="notice notice-%s inline samtycke-import-result"><p>%s</p></div>', 'success' === $import[0] ? 'success' : 'error', esc_html( (string) $import[1] ) );
	}
	echo '<p style="max-width:56em">' . esc_html__( 'In Real Cookie Banner, Settings → Import/Export: export the services and groups as a file. Their groups become categories of your Samtycke site (Essential → necessary, Functional → preferences, Statistics, Marketing) and each cookie or storage entry of a service an item, added to the draft; nothing is published. A token entered here is used for this import only and not stored.', 'samtycke' ) . '</p>';
	echo '<form method="post" enctype="multipart/form-data" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
	echo '<input type="hidden" name="action" value="samtycke_import">';
	wp_nonce_field( 'samtycke_import' );
	echo '<table class="form-table" role="presentation">';
	printf(
		'<tr><th scope="row"><label for="samtycke_rcb_file">%s</label></th><td><input type="file" id="samtycke_rcb_file" name="samtycke_rcb_file" accept=".json,application/json"></td></tr>',
		esc_html__( 'Export file', 'samtycke' )
	);
	printf(
		'<tr><th scope="row"><label for="samtycke_import_token">%s</label></th><td><input type="password" class="regular-text" id="samtycke_import_token" name="samtycke_import_token" autocomplete="off" aria-describedby="samtycke_import_token_help"><p class="description" id="samtycke_import_token_help">%s</p></td></tr>',
		esc_html__( 'API token', 'samtycke' ),
		esc_html__( 'A token of this site with the editor or owner role, from the Samtycke dashboard (the site → Tokens). Empty: the token stored above, if any.', 'samtycke' )
	);
	echo '</table>';
	submit_button( __( 'Import into the draft', 'samtycke' ), 'secondary', 'samtycke_import_submit' );
	echo '</form>';
}
