-- Counts live claims exactly as ActionScheduler_DBStore::get_claim_count() does.
-- params: none
SELECT COUNT(DISTINCT claim_id) AS claims FROM {actions} WHERE claim_id != 0 AND status IN ('pending', 'in-progress')
