<?php
// phpcs:ignoreFile -- stubs for static analysis, not plugin code.

namespace WP_CLI;

class Runner {
	/** @var array<int, string> */
	public $arguments = array();
	/** @var array<string, mixed> */
	public $assoc_args = array();
}

class NoOp {
	/** @param string $method @param array<int, mixed> $arguments @return void */
	public function __call( $method, $arguments ) {}
}


namespace cli\progress;

/** wp-cli/php-cli-tools' progress bar, which WP_CLI\Utils\make_progress_bar() returns in a terminal. */
class Bar {
	/** @param int $increment @param string|null $msg @return void */
	public function tick( $increment = 1, $msg = null ) {}
	/** @return int */
	public function current() { return 0; }
	/** @return void */
	public function finish() {}
	/** @param int $total @return void */
	public function setTotal( $total ) {}
}

namespace WP_CLI\Utils;

/**
 * @param array<string, mixed> $assoc_args
 * @param string $flag
 * @param mixed $default
 * @return mixed
 */
function get_flag_value( $assoc_args, $flag, $default = null ) { return $default; }

/**
 * @param string $format
 * @param iterable<mixed> $items
 * @param array<int, string>|string $fields
 * @return void
 */
function format_items( $format, $items, $fields ) {}

/**
 * @param string $message
 * @param int $count
 * @param int $interval
 * @return \cli\progress\Bar|\WP_CLI\NoOp
 */
function make_progress_bar( $message, $count, $interval = 100 ) { return new \WP_CLI\NoOp(); }
