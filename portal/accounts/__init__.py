"""Accounts (账号): users, global roles, departments (责任部门), login sessions."""
