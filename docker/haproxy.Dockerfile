# HAProxy for machines without a registry: Debian 12's haproxy package from the base image's
# root filesystem. With a registry the stack uses the official image.
ARG BASE=gosstand-base:bookworm
FROM ${BASE}
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
