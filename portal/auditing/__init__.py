"""The auditor's workspace: the filtered log, exports, integrity checks, item history, `flask audit`."""
