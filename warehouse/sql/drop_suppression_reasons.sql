-- For callers that asked for the bare contract columns (outcome-metrics §6) only.
ALTER TABLE mart.outcome_scores DROP COLUMN suppression_reason;
ALTER TABLE mart.trajectory_indicators DROP COLUMN suppression_reason;
ALTER TABLE mart.outcome_scores_rest DROP COLUMN suppression_reason;
ALTER TABLE mart.trajectory_indicators_rest DROP COLUMN suppression_reason;
