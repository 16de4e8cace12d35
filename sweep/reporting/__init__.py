"""Reporting: statistics, tables, figures and the HTML report of a results folder."""
