"""The session: the one place where the agent's I/O meets the conversation's rules.

Besides the session itself: the event hub that fans changes out to clients, and the
files a session keeps (the state file and the pid file).
"""
