-- The claim's first read: due, unclaimed, pending actions in Action Scheduler's claim order, as a plain (non-locking)
-- read. The claimer then locks these rows by primary key with SKIP LOCKED and stamps the ones it got (claimer.ts).
-- params: now_gmt (datetime), then the {groups} filter's IDs (if any), then limit (int)
-- {groups}: empty, or " AND group_id IN (...)" / " AND group_id NOT IN (...)" for a lane's groups
-- used by: src-worker/claim/claimer.ts (the sidecar claim transaction, READ COMMITTED)
SELECT action_id FROM {actions}
WHERE status = 'pending' AND claim_id = 0 AND scheduled_date_gmt <= ?{groups}
ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC
LIMIT ?
