# Sourced by the S3 benchmarks (bench/s3.sh, bench/mount-s3.sh): starts S3Proxy 4.1.0 (filesystem
# backend, signatures enforced) on a free loopback port and points the AWS SDKs, quilt3 and rclone
# at it. After `start_s3proxy WORK DATA JAR`: $endpoint, $s3proxy_pid (the caller stops it),
# AWS_* exported, WORK/rclone.conf with an `s3p` remote, WORK/s3proxy.log.
start_s3proxy() {
  local work="$1" data="$2" jar="$3" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint="http://127.0.0.1:$port"
  mkdir -p "$data"
  cat > "$work/s3proxy.conf" <<EOF
s3proxy.endpoint=$endpoint
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=benchkey
s3proxy.credential=benchsecret
jclouds.provider=filesystem-nio2
jclouds.identity=unused
jclouds.credential=unused
jclouds.filesystem.basedir=$data
EOF
  java -Xmx1g -jar "$jar" --properties "$work/s3proxy.conf" > "$work/s3proxy.log" 2>&1 &
  s3proxy_pid=$!
  for _ in $(seq 100); do
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.2
  done

  export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL="$endpoint"
  export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE=/nonexistent
  printf '[default]\ns3 =\n    addressing_style = path\n' > "$AWS_CONFIG_FILE"
  unset AWS_CA_BUNDLE || true
  cat > "$work/rclone.conf" <<EOF
[s3p]
type = s3
provider = Other
access_key_id = benchkey
secret_access_key = benchsecret
endpoint = $endpoint
force_path_style = true
EOF
}
