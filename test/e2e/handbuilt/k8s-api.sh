#!/bin/sh
# A Kubernetes API VIP pair as the kubeadm / OpenShift guides build it, on a Debian lab host: equal priorities on
# every node (state BACKUP everywhere) where the health check's positive weight decides the master, a check script
# that curls the local endpoint, an IPv4 VIP and its IPv6 twin (VRRPv3) in one sync group so that they move together,
# instance names that differ between the nodes (the VRID ties them), and nginx in front of the two web hosts on both
# VIPs. Arguments: NAME VRID VIP4 VIP6 WEB1 WEB2
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q keepalived >/dev/null 2>&1
cat > /etc/keepalived/check_apiserver.sh <<'S'
#!/bin/sh
errorExit() {
    echo "*** $*" 1>&2
    exit 1
}
curl --silent --max-time 2 -o /dev/null http://127.0.0.1/ || errorExit "Error GET http://127.0.0.1/"
S
chmod 755 /etc/keepalived/check_apiserver.sh
cat > /etc/keepalived/keepalived.conf <<K
! kubeadm-style API VIP (equal priorities: the check's weight decides)
global_defs {
    router_id LVS_DEVEL
    enable_script_security
    script_user root
}
vrrp_script check_apiserver {
    script "/etc/keepalived/check_apiserver.sh"
    interval 3
    weight 2
    fall 2
    rise 2
}
vrrp_sync_group API {
    group {
        $1
        ${1}_6
    }
}
vrrp_instance $1 {
    state BACKUP
    interface host0
    virtual_router_id $2
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass k8sPass1
    }
    virtual_ipaddress {
        $3
    }
    track_script {
        check_apiserver
    }
}
vrrp_instance ${1}_6 {
    state BACKUP
    interface host0
    virtual_router_id $2
    priority 100
    advert_int 1
    virtual_ipaddress {
        $4
    }
    track_script {
        check_apiserver
    }
}
K
rm -f /etc/nginx/sites-enabled/default
cat > /etc/nginx/conf.d/api.conf <<N
upstream api {
    server $5:80;
    server $6:80;
}
server {
    listen 80;
    listen [::]:80;
    location / {
        proxy_pass http://api;
    }
}
N
nginx -t 2>/dev/null
systemctl reload nginx
systemctl enable keepalived >/dev/null 2>&1
systemctl restart keepalived
