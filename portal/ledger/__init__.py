"""The rectification ledger (整改台账): the spreadsheet offices keep, exported and imported."""
