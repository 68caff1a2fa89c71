-- Selects due, unclaimed, pending actions to claim, in Action Scheduler's claim order, skipping rows another claimer holds.
-- params: now_gmt (datetime), limit (int)
-- used by: src-worker/claim (the sidecar claim transaction, READ COMMITTED)
SELECT action_id FROM {actions}
WHERE status = 'pending' AND claim_id = 0 AND scheduled_date_gmt <= ?
ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC
LIMIT ?
FOR UPDATE SKIP LOCKED
