"""The agent's terminal: a child process under a PTY and the emulator that reads its screen."""
