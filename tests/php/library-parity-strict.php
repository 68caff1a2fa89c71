<?php
declare(strict_types=1);
/** A caller that declares strict_types, as CLI toolboxes do: a non-string version is a TypeError here. */
function library_parity_strict_version_probe() {
	try {
		$latest = ActionScheduler_Versions::instance()->latest_version();
		return array( version_compare( $latest, '3.0.0', '>=' ), strlen( $latest ) > 0 );
	} catch ( TypeError $e ) {
		return 'TypeError';
	}
}
