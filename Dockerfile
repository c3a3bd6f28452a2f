FROM python:3.11-slim
WORKDIR /opt/agentapi
COPY . .
# The same install step as the README's first command.
RUN python3 -m venv .venv && . .venv/bin/activate && pip install --no-cache-dir .
ENV PATH=/opt/agentapi/.venv/bin:$PATH
WORKDIR /work
# Reached from outside the container: listen on every interface (the default is loopback).
ENV AGENTAPI_BIND=*
EXPOSE 3284
ENTRYPOINT ["agentapi"]
CMD ["server", "--", "agentapi-demo"]
