<?php
// One class per file: a copy of the library that supplies its own registry must still be able to load ActionScheduler.
defined( 'ABSPATH' ) || exit;

/**
 * The version registry. Sidecar Scheduler declares it only in standalone mode, after every plugin has loaded, so a
 * copy bundled by a theme sees an initialised library and stays out of the way instead of redeclaring functions.
 */
class ActionScheduler_Versions {
	private static $instance = null;
	private $versions        = array();

	public static function instance() {
		if ( empty( self::$instance ) ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	public function register( $version_string, $initialization_callback ) {
		if ( isset( $this->versions[ $version_string ] ) ) {
			return false;
		}
		$this->versions[ $version_string ] = $initialization_callback;
		return true;
	}

	public function get_versions() {
		return $this->versions;
	}

	public function latest_version() {
		$keys = array_keys( $this->versions );
		if ( empty( $keys ) ) {
			return false;
		}
		uasort( $keys, 'version_compare' );
		return end( $keys );
	}

	public function latest_version_callback() {
		$latest = $this->latest_version();
		return ( empty( $latest ) || ! isset( $this->versions[ $latest ] ) ) ? '__return_null' : $this->versions[ $latest ];
	}

	/** Nothing to initialise: Sidecar Scheduler is already the running implementation. */
	public static function initialize_latest_version() {}
}
