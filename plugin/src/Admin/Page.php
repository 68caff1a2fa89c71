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
		// In standalone mode the hook name is the library's (tools_page_action-scheduler): plugins hook its load-… action.
		$hook = add_submenu_page( 'tools.php', $title, $title, apply_filters( 'sidecar_scheduler_capability', 'manage_options' ), self::slug(), array( __CLASS__, 'render' ) );
		add_action( 'load-' . $hook, array( __CLASS__, 'add_help_tabs' ) );
		add_action(
			'admin_enqueue_scripts',
			function ( $current ) use ( $hook ) {
				if ( $current === $hook ) {
					self::enqueue();
				}
			}
		);
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
		wp_localize_script(
			'sidecar-scheduler-admin',
			'sidecarScheduler',
			array(
				'timezone' => wp_timezone_string(),
				'mode'     => Plugin::mode(),
			)
		);
		wp_enqueue_style( 'wp-components' );
		if ( is_readable( $dir . 'style-index.css' ) ) {
			wp_enqueue_style( 'sidecar-scheduler-admin', plugins_url( 'build/style-index.css', Plugin::file() ), array( 'wp-components' ), $asset['version'] );
		}
	}

	/**
	 * The standard WordPress screen parts: with a Help tab, WordPress renders #screen-meta and #screen-meta-links,
	 * which plugins that extend the library's Tools › Scheduled Actions screen with standard screen markup rely on.
	 */
	public static function add_help_tabs() {
		$screen = get_current_screen();
		if ( ! $screen ) {
			return;
		}
		$screen->add_help_tab(
			array(
				'id'      => 'sidecar_scheduler_overview',
				'title'   => __( 'Overview', 'sidecar-scheduler' ),
				'content' => '<p>' . esc_html__( 'This screen shows the health of the background job queue: what is waiting, running, done and failing, how long actions wait before they start, and which sidecars run them. Below, every scheduled action can be searched, filtered, run, cancelled, retried or deleted.', 'sidecar-scheduler' ) . '</p>',
			)
		);
		$screen->add_help_tab(
			array(
				'id'      => 'sidecar_scheduler_statuses',
				'title'   => __( 'Statuses', 'sidecar-scheduler' ),
				'content' => '<ul>'
					. '<li><strong>' . esc_html__( 'Pending', 'sidecar-scheduler' ) . '</strong>: ' . esc_html__( 'waiting for its scheduled time; past-due when that time has passed.', 'sidecar-scheduler' ) . '</li>'
					. '<li><strong>' . esc_html__( 'In-progress', 'sidecar-scheduler' ) . '</strong>: ' . esc_html__( 'its callbacks are running now.', 'sidecar-scheduler' ) . '</li>'
					. '<li><strong>' . esc_html__( 'Complete', 'sidecar-scheduler' ) . '</strong>, <strong>' . esc_html__( 'Failed', 'sidecar-scheduler' ) . '</strong>, <strong>' . esc_html__( 'Canceled', 'sidecar-scheduler' ) . '</strong>: ' . esc_html__( 'finished; the log of each action says how.', 'sidecar-scheduler' ) . '</li>'
					. '</ul>',
			)
		);
		$screen->set_help_sidebar( '<p><strong>' . esc_html__( 'Sidecar Scheduler', 'sidecar-scheduler' ) . '</strong></p><p>' . esc_html__( 'Without a running sidecar, WP-Cron and requests to wp-admin run the queue, as Action Scheduler does.', 'sidecar-scheduler' ) . '</p>' );
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
