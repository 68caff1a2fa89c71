<?php
/**
 * The class surface plugins call and extend, by reflection: for each class, its kind, parent chain, interfaces,
 * constants and every public or protected method with its parameters (types, names, defaults). Prints JSON.
 * tests/php/library-parity.test.ts compares the library's with ours.
 */
$library_parity_classes = array(
	// The facade, the abstracts plugins extend, and what they return.
	'ActionScheduler', 'ActionScheduler_Abstract_QueueRunner', 'ActionScheduler_Abstract_QueueRunner_Deprecated', 'ActionScheduler_Lock',
	'ActionScheduler_Logger', 'ActionScheduler_Store', 'ActionScheduler_Store_Deprecated', 'ActionScheduler_TimezoneHelper',
	// Actions and schedules (their serialised form lives in the `schedule` column).
	'ActionScheduler_Action', 'ActionScheduler_FinishedAction', 'ActionScheduler_CanceledAction', 'ActionScheduler_NullAction',
	'ActionScheduler_Schedule', 'ActionScheduler_Schedule_Deprecated', 'ActionScheduler_Abstract_Schedule', 'ActionScheduler_Abstract_RecurringSchedule',
	'ActionScheduler_SimpleSchedule', 'ActionScheduler_NullSchedule', 'ActionScheduler_CanceledSchedule', 'ActionScheduler_IntervalSchedule',
	'ActionScheduler_CronSchedule', 'CronExpression',
	// The table store and logger, and the runner side.
	'ActionScheduler_DBStore', 'ActionScheduler_DBLogger', 'ActionScheduler_ActionClaim', 'ActionScheduler_ActionFactory',
	'ActionScheduler_QueueRunner', 'ActionScheduler_AsyncRequest_QueueRunner', 'WP_Async_Request', 'ActionScheduler_QueueCleaner',
	'ActionScheduler_FatalErrorMonitor', 'ActionScheduler_OptionLock', 'ActionScheduler_Compatibility', 'ActionScheduler_DataController',
	'ActionScheduler_DateTime', 'ActionScheduler_Versions', 'ActionScheduler_LogEntry', 'ActionScheduler_NullLogEntry',
	'ActionScheduler_Exception', 'ActionScheduler_InvalidActionException',
	// The table makers.
	'ActionScheduler_Abstract_Schema', 'ActionScheduler_StoreSchema', 'ActionScheduler_LoggerSchema',
);
if ( defined( 'WP_CLI' ) && WP_CLI ) {
	// Their constructors refuse to run outside WP-CLI: compared there.
	$library_parity_classes[] = 'ActionScheduler_WPCLI_QueueRunner';
	$library_parity_classes[] = 'Action_Scheduler\WP_CLI\ProgressBar';
}
// The library declares this one only while its async runner is loaded; loading that class declares it here too.
class_exists( 'ActionScheduler_AsyncRequest_QueueRunner' );

$library_parity_surface = array();
foreach ( $library_parity_classes as $library_parity_class ) {
	if ( ! class_exists( $library_parity_class ) && ! interface_exists( $library_parity_class ) ) {
		$library_parity_surface[ $library_parity_class ] = 'missing';
		continue;
	}
	$reflection = new ReflectionClass( $library_parity_class );
	$parents    = array();
	for ( $parent = $reflection->getParentClass(); $parent; $parent = $parent->getParentClass() ) {
		$parents[] = $parent->getName();
	}
	$interfaces = $reflection->getInterfaceNames();
	sort( $interfaces );
	$methods = array();
	foreach ( $reflection->getMethods() as $method ) {
		if ( $method->isPrivate() ) {
			continue; // Nobody outside the class can call or override it.
		}
		$params = array();
		foreach ( $method->getParameters() as $param ) {
			$default  = $param->isOptional() ? ( $param->isDefaultValueAvailable() ? '=' . var_export( $param->getDefaultValue(), true ) : '=?' ) : '';
			$params[] = ( $param->hasType() ? (string) $param->getType() . ' ' : '' ) . ( $param->isVariadic() ? '...' : '' ) . '$' . $param->getName() . $default;
		}
		$methods[ $method->getName() ] = array(
			'static'     => $method->isStatic(),
			'abstract'   => $method->isAbstract(),
			'final'      => $method->isFinal(),
			'visibility' => $method->isPublic() ? 'public' : 'protected',
			'params'     => implode( ', ', $params ),
		);
	}
	ksort( $methods );
	$constants = $reflection->getConstants();
	ksort( $constants );
	$library_parity_surface[ $library_parity_class ] = array(
		'kind'       => $reflection->isInterface() ? 'interface' : ( $reflection->isAbstract() ? 'abstract class' : 'class' ),
		'parents'    => $parents,
		'interfaces' => $interfaces,
		'constants'  => $constants,
		'methods'    => $methods,
	);
}
echo "\n" . wp_json_encode( $library_parity_surface ) . "\n";
