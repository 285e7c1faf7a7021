"""Investigation stages: what bounds the service (bare-app floors) and where its time goes (profiles)."""
