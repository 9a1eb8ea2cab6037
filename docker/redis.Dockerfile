# Redis for machines without a registry: Debian 12's redis-server, already in the base image's
# root filesystem (debootstrap --include). With a registry the stack uses the official image.
ARG BASE=gosstand-base:bookworm
FROM ${BASE}
CMD ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"]
