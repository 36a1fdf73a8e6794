"""Running the workflows on stored objects: policy, transitions, history, worklists."""
