<?php
/** Registers the admin screen (Tools › Scheduled Actions, or Tools › Queue Health beside the library's screen) and its script. */

namespace SidecarScheduler\Admin;

use SidecarScheduler\Plugin;

defined( 'ABSPATH' ) || exit;

final class Page {
	public static function slug() {
		return Plugin::MODE_STANDALONE === Plugin::mode() ? 'action-scheduler' : 'sidecar-queue-health';
	}

	public static function register() {
		$title = Plugin::MODE_STANDALONE === Plugin::mode() ? __( 'Scheduled Actions', 'sidecar-scheduler' ) : __( 'Queue Health', 'sidecar-scheduler' );
		$hook  = add_submenu_page( 'tools.php', $title, $title, apply_filters( 'sidecar_scheduler_capability', 'manage_options' ), self::slug(), array( __CLASS__, 'render' ) );
		add_action( 'admin_enqueue_scripts', function ( $current ) use ( $hook ) {
			if ( $current === $hook ) {
				self::enqueue();
			}
		} );
	}

	private static function enqueue() {
		$dir   = dirname( Plugin::file() ) . '/build/';
		$asset = is_readable( $dir . 'index.asset.php' ) ? require $dir . 'index.asset.php' : null;
		if ( ! $asset ) {
			return;
		}
		if ( ! wp_script_is( 'react-jsx-runtime', 'registered' ) ) {
			// WordPress before 6.6 has no JSX runtime script: register ours, built from React 18's.
			wp_register_script( 'react-jsx-runtime', plugins_url( 'build/react-jsx-runtime-shim.js', Plugin::file() ), array( 'react' ), $asset['version'], true );
		}
		wp_enqueue_script( 'sidecar-scheduler-admin', plugins_url( 'build/index.js', Plugin::file() ), $asset['dependencies'], $asset['version'], true );
		wp_set_script_translations( 'sidecar-scheduler-admin', 'sidecar-scheduler' );
		wp_localize_script( 'sidecar-scheduler-admin', 'sidecarScheduler', array( 'timezone' => wp_timezone_string(), 'mode' => Plugin::mode() ) );
		wp_enqueue_style( 'wp-components' );
		if ( is_readable( $dir . 'style-index.css' ) ) {
			wp_enqueue_style( 'sidecar-scheduler-admin', plugins_url( 'build/style-index.css', Plugin::file() ), array( 'wp-components' ), $asset['version'] );
		}
	}

	public static function render() {
		$built = is_readable( dirname( Plugin::file() ) . '/build/index.asset.php' );
		echo '<div class="wrap"><h1>' . esc_html( get_admin_page_title() ) . '</h1>';
		if ( ! $built ) {
			echo '<div class="notice notice-error"><p>' . esc_html__( 'The admin app has not been built. Run `npm run build` in the plugin source.', 'sidecar-scheduler' ) . '</p></div>';
		}
		echo '<div id="sidecar-scheduler-root"></div></div>';
	}
}
