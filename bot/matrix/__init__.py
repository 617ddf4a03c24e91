"""The Matrix adapter: matrix-nio events in, engine effects out. It holds no rule."""
