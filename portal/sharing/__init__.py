"""Local roles (共享): Reader, Editor and Reviewer granted on part of the content tree."""
