-- The registry in force for this build, from the frame registered as registry_frame.
DELETE FROM ref.instruments;
INSERT INTO ref.instruments SELECT * FROM registry_frame;
