"""Running: chunks planned from the trials still to train, trained on a
backend, turned into rows; estimates and calibration."""
