<?php
defined( 'ABSPATH' ) || exit;

/**
 * The fire-and-forget admin-ajax request base class that Action Scheduler ships (from WP Background Processing):
 * subclasses set $prefix and $action and implement handle(); dispatch() posts to admin-ajax without waiting, and the
 * ajax hook for "{prefix}_{action}" checks the nonce, calls handle() and ends the request. Loaded by
 * ActionScheduler_AsyncRequest_QueueRunner only when no other plugin has declared it.
 */
abstract class WP_Async_Request {
	protected $prefix = 'wp';
	protected $action = 'async_request';
	/** @var string "{prefix}_{action}": the ajax action, nonce action and filter prefix. */
	protected $identifier;
	/** @var array Posted as the body. */
	protected $data = array();

	public function __construct() {
		$this->identifier = $this->prefix . '_' . $this->action;
		add_action( 'wp_ajax_' . $this->identifier, array( $this, 'maybe_handle' ) );
		add_action( 'wp_ajax_nopriv_' . $this->identifier, array( $this, 'maybe_handle' ) );
	}

	public function data( $data ) {
		$this->data = $data;
		return $this;
	}

	public function dispatch() {
		return wp_remote_post( esc_url_raw( add_query_arg( $this->get_query_args(), $this->get_query_url() ) ), $this->get_post_args() );
	}

	/** A subclass may fix the query args, URL or post args with properties of those names instead of the filters. */
	protected function get_query_args() {
		if ( property_exists( $this, 'query_args' ) ) {
			return $this->query_args;
		}
		return apply_filters(
			$this->identifier . '_query_args',
			array(
				'action' => $this->identifier,
				'nonce'  => wp_create_nonce( $this->identifier ),
			)
		);
	}

	protected function get_query_url() {
		if ( property_exists( $this, 'query_url' ) ) {
			return $this->query_url;
		}
		return apply_filters( $this->identifier . '_query_url', admin_url( 'admin-ajax.php' ) );
	}

	protected function get_post_args() {
		if ( property_exists( $this, 'post_args' ) ) {
			return $this->post_args;
		}
		$args = array(
			'timeout'   => 0.01, // Do not wait for the answer: the request runs on its own.
			'blocking'  => false,
			'body'      => $this->data,
			'cookies'   => $_COOKIE,
			'sslverify' => apply_filters( 'https_local_ssl_verify', false ),
		);
		return apply_filters( $this->identifier . '_post_args', $args );
	}

	public function maybe_handle() {
		session_write_close(); // The request may run for a while: release the session so others are not blocked.
		check_ajax_referer( $this->identifier, 'nonce' );
		$this->handle();
		wp_die();
	}

	abstract protected function handle();
}
