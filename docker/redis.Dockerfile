# Redis for machines without a registry: Debian 12's redis-server, already in the base image's
# root filesystem (debootstrap --include). With a registry the stack uses the official image.
ARG BASE=gosstand-base:bookworm
FROM ${BASE}
# Binds GOSSTAND_HOST (every interface of the container's network unless told otherwise; protected
# mode off as in the official image, whose network is the container's own).
ENV GOSSTAND_HOST=0.0.0.0 GOSSTAND_PORT=6379
EXPOSE 6379
CMD ["sh", "-c", "exec redis-server --bind \"$GOSSTAND_HOST\" --port \"$GOSSTAND_PORT\" --protected-mode no --save '' --appendonly no"]
