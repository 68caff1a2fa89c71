<?php
// The library's WP-CLI runner, in WP_CLI/ beside its progress bar (whose namespaced name the class map gives).
defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/WP_CLI/ActionScheduler_WPCLI_QueueRunner.php';
