-- The pipeline's mart shape without a release (a build asked for reason codes but not for
-- release bookkeeping): no row is held.
ALTER TABLE mart.outcome_scores ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.outcome_scores ADD COLUMN held_from_build VARCHAR;
ALTER TABLE mart.trajectory_indicators ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.trajectory_indicators ADD COLUMN held_from_build VARCHAR;
ALTER TABLE mart.outcome_scores_rest ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.outcome_scores_rest ADD COLUMN held_from_build VARCHAR;
ALTER TABLE mart.trajectory_indicators_rest ADD COLUMN held BOOLEAN DEFAULT false;
ALTER TABLE mart.trajectory_indicators_rest ADD COLUMN held_from_build VARCHAR;
