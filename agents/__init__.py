"""Stream agents: control commands, training, generation, status tables and the warehouse sink."""
