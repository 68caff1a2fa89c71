<?php
/**
 * Thrown where the worker's start of an action is refused or cannot be made durable (another claim owns the row, it
 * is no longer pending, or the start's commit was lost): the callback must not run, and since it never started the
 * action is not failed either. Our runner (standalone mode) catches it before its failure path.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

class StartRefused extends \RuntimeException {}
