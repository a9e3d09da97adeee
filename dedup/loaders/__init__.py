"""Loaders of labelled report streams (Chicago 311, NYC 311, the simulator's ground truth)."""
