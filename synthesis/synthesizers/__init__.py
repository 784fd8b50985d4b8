"""Synthesizers written for this project, behind SDV's single-table interface (fit, sample, save, conditions)."""
