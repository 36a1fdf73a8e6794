"""Demo data for trying the portal locally (refused under the production configuration)."""
