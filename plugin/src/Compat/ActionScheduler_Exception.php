<?php
defined( 'ABSPATH' ) || exit;

/** Marks the exceptions Action Scheduler itself throws, so callers can catch them all with one type. */
interface ActionScheduler_Exception {}
