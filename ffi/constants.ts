/**
 * OpenSSL constants the module uses, each under its header name.
 *
 * @module
 */

// ssl.h: SSL_get_error results
/** `SSL_ERROR_NONE` (ssl.h). */
export const SSL_ERROR_NONE = 0;
/** `SSL_ERROR_SSL` (ssl.h): a protocol error; the error queue says which. */
export const SSL_ERROR_SSL = 1;
/** `SSL_ERROR_WANT_READ` (ssl.h): feed the read BIO and call again. */
export const SSL_ERROR_WANT_READ = 2;
/** `SSL_ERROR_WANT_WRITE` (ssl.h): drain the write BIO and call again. */
export const SSL_ERROR_WANT_WRITE = 3;
/** `SSL_ERROR_WANT_X509_LOOKUP` (ssl.h). */
export const SSL_ERROR_WANT_X509_LOOKUP = 4;
/** `SSL_ERROR_SYSCALL` (ssl.h): an I/O error, or EOF without close_notify on OpenSSL 1.1. */
export const SSL_ERROR_SYSCALL = 5;
/** `SSL_ERROR_ZERO_RETURN` (ssl.h): the peer sent close_notify. */
export const SSL_ERROR_ZERO_RETURN = 6;

// ssl.h: verify modes
/** `SSL_VERIFY_NONE` (ssl.h). */
export const SSL_VERIFY_NONE = 0x00;
/** `SSL_VERIFY_PEER` (ssl.h). */
export const SSL_VERIFY_PEER = 0x01;
/** `SSL_VERIFY_FAIL_IF_NO_PEER_CERT` (ssl.h). */
export const SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02;
/** `SSL_VERIFY_CLIENT_ONCE` (ssl.h). */
export const SSL_VERIFY_CLIENT_ONCE = 0x04;

// ssl.h: SSL_ctrl / SSL_CTX_ctrl commands
/** `SSL_CTRL_MODE` (ssl.h): `SSL_CTX_set_mode` / `SSL_set_mode`. */
export const SSL_CTRL_MODE = 33;
/** `SSL_CTRL_SET_TLSEXT_HOSTNAME` (ssl.h): `SSL_set_tlsext_host_name`. */
export const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
/** `SSL_CTRL_SET_MIN_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
/** `SSL_CTRL_SET_MAX_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
/** `SSL_CTRL_GET_MIN_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_GET_MIN_PROTO_VERSION = 130;
/** `SSL_CTRL_GET_MAX_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_GET_MAX_PROTO_VERSION = 131;
/** `TLSEXT_NAMETYPE_host_name` (tls1.h). */
export const TLSEXT_NAMETYPE_host_name = 0;

// ssl.h: modes
/** `SSL_MODE_ENABLE_PARTIAL_WRITE` (ssl.h). */
export const SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
/** `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER` (ssl.h). */
export const SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
/** `SSL_MODE_AUTO_RETRY` (ssl.h). */
export const SSL_MODE_AUTO_RETRY = 0x4;
/** `SSL_MODE_RELEASE_BUFFERS` (ssl.h). */
export const SSL_MODE_RELEASE_BUFFERS = 0x10;

// ssl.h: SSL_get_shutdown bits
/** `SSL_SENT_SHUTDOWN` (ssl.h): our close_notify has been produced. */
export const SSL_SENT_SHUTDOWN = 1;
/** `SSL_RECEIVED_SHUTDOWN` (ssl.h): the peer's close_notify arrived. */
export const SSL_RECEIVED_SHUTDOWN = 2;

// ssl.h / prov_ssl.h: protocol versions
/** `SSL3_VERSION` (prov_ssl.h). */
export const SSL3_VERSION = 0x0300;
/** `TLS1_VERSION` (prov_ssl.h). */
export const TLS1_VERSION = 0x0301;
/** `TLS1_1_VERSION` (prov_ssl.h). */
export const TLS1_1_VERSION = 0x0302;
/** `TLS1_2_VERSION` (prov_ssl.h). */
export const TLS1_2_VERSION = 0x0303;
/** `TLS1_3_VERSION` (prov_ssl.h). */
export const TLS1_3_VERSION = 0x0304;

// ssl.h: file types
/** `SSL_FILETYPE_PEM` (ssl.h). */
export const SSL_FILETYPE_PEM = 1;

// x509_vfy.h
/** `X509_L_ADD_DIR` (x509_vfy.h): `X509_LOOKUP_add_dir`. */
export const X509_L_ADD_DIR = 2;
/** `X509_L_ADD_STORE` (x509_vfy.h): `X509_LOOKUP_add_store`. */
export const X509_L_ADD_STORE = 3;
/** `X509_FILETYPE_DEFAULT` (x509.h): the default location (`SSL_CERT_FILE` / `SSL_CERT_DIR` or the built-in). */
export const X509_FILETYPE_DEFAULT = 3;
/** `X509_LU_X509` (x509_vfy.h): an `X509_OBJECT` holding a certificate. */
export const X509_LU_X509 = 1;
/** `X509_LU_CRL` (x509_vfy.h): an `X509_OBJECT` holding a CRL. */
export const X509_LU_CRL = 2;

// bio.h
/** `BIO_CTRL_INFO` (bio.h): `BIO_get_mem_data` (a memory BIO's next unread byte, and how many wait). */
export const BIO_CTRL_INFO = 3;
/** `BIO_CTRL_PENDING` (bio.h): `BIO_pending`. */
export const BIO_CTRL_PENDING = 10;
/** `BIO_C_GET_BUF_MEM_PTR` (bio.h): `BIO_get_mem_ptr` (a memory BIO's `BUF_MEM`). */
export const BIO_C_GET_BUF_MEM_PTR = 115;
/** `BIO_C_SET_BUF_MEM_EOF_RETURN` (bio.h): `BIO_set_mem_eof_return`. */
export const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;

// crypto.h: ex_data classes
/** `CRYPTO_EX_INDEX_SSL` (crypto.h). */
export const CRYPTO_EX_INDEX_SSL = 0;
/** `CRYPTO_EX_INDEX_SSL_CTX` (crypto.h). */
export const CRYPTO_EX_INDEX_SSL_CTX = 1;

// crypto.h: OpenSSL_version types
/** `OPENSSL_VERSION` (crypto.h): "OpenSSL 3.0.x dd Mon yyyy". */
export const OPENSSL_VERSION = 0;
/** `OPENSSL_CFLAGS` (crypto.h). */
export const OPENSSL_CFLAGS = 1;
/** `OPENSSL_BUILT_ON` (crypto.h). */
export const OPENSSL_BUILT_ON = 2;
/** `OPENSSL_PLATFORM` (crypto.h). */
export const OPENSSL_PLATFORM = 3;
/** `OPENSSL_DIR` (crypto.h). */
export const OPENSSL_DIR = 4;

// err.h
/** `ERR_LIB_SSL` (err.h). */
export const ERR_LIB_SSL = 20;

// sslerr.h: reasons the module tells apart
/** `SSL_R_CERTIFICATE_VERIFY_FAILED` (sslerr.h). */
export const SSL_R_CERTIFICATE_VERIFY_FAILED = 134;
/** `SSL_R_UNEXPECTED_EOF_WHILE_READING` (sslerr.h): TCP closed without close_notify. */
export const SSL_R_UNEXPECTED_EOF_WHILE_READING = 294;
/** `SSL_R_NO_SHARED_CIPHER` (sslerr.h). */
export const SSL_R_NO_SHARED_CIPHER = 193;
/** `SSL_R_NO_CIPHERS_AVAILABLE` (sslerr.h). */
export const SSL_R_NO_CIPHERS_AVAILABLE = 181;
/** `SSL_R_NO_CIPHER_MATCH` (sslerr.h). */
export const SSL_R_NO_CIPHER_MATCH = 185;
/** `SSL_R_NO_PROTOCOLS_AVAILABLE` (sslerr.h). */
export const SSL_R_NO_PROTOCOLS_AVAILABLE = 191;
/** `SSL_R_NO_SHARED_GROUPS` (sslerr.h). */
export const SSL_R_NO_SHARED_GROUPS = 410;
/** `SSL_R_UNSUPPORTED_PROTOCOL` (sslerr.h). */
export const SSL_R_UNSUPPORTED_PROTOCOL = 258;
/** `SSL_R_UNSUPPORTED_SSL_VERSION` (sslerr.h). */
export const SSL_R_UNSUPPORTED_SSL_VERSION = 259;
/** `SSL_R_VERSION_TOO_HIGH` (sslerr.h). */
export const SSL_R_VERSION_TOO_HIGH = 166;
/** `SSL_R_VERSION_TOO_LOW` (sslerr.h). */
export const SSL_R_VERSION_TOO_LOW = 396;
/** `SSL_R_WRONG_VERSION_NUMBER` (sslerr.h). */
export const SSL_R_WRONG_VERSION_NUMBER = 267;
/** `SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE` (sslerr.h): the peer's handshake_failure alert. */
export const SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE = 1040;
/** `SSL_R_TLSV1_ALERT_PROTOCOL_VERSION` (sslerr.h): the peer's protocol_version alert. */
export const SSL_R_TLSV1_ALERT_PROTOCOL_VERSION = 1070;
/** `SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY` (sslerr.h). */
export const SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY = 1071;
/** `SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE` (sslerr.h): a server that requires one got none. */
export const SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE = 199;
/** `SSL_R_CONNECTION_TYPE_NOT_SET` (sslerr.h): an SSL with neither the connect nor the accept state. */
export const SSL_R_CONNECTION_TYPE_NOT_SET = 144;
/** `SSL_R_NO_RENEGOTIATION` (sslerr.h): we refused a renegotiation. */
export const SSL_R_NO_RENEGOTIATION = 339;
/** `SSL_R_TLSV1_ALERT_NO_RENEGOTIATION` (sslerr.h): the peer's no_renegotiation alert. */
export const SSL_R_TLSV1_ALERT_NO_RENEGOTIATION = 1100;
/** `SSL_R_TLSV1_UNRECOGNIZED_NAME` (sslerr.h): the peer's unrecognized_name alert (SNI). */
export const SSL_R_TLSV1_UNRECOGNIZED_NAME = 1112;
/** `SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED` (sslerr.h): the server wanted a client certificate. */
export const SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED = 1116;

// x509_vfy.h
/** `X509_V_OK` (x509_vfy.h). */
export const X509_V_OK = 0;

// obj_mac.h
/** `NID_subject_alt_name` (obj_mac.h). */
export const NID_subject_alt_name = 85;

// asn1.h / x509.h: name printing
/** `XN_FLAG_RFC2253` (x509.h): names printed as in RFC 2253, most specific first. */
export const XN_FLAG_RFC2253 = 0x1110317n;
/** `ASN1_STRFLGS_ESC_MSB` (asn1.h): escape bytes over 127 (cleared to keep UTF-8 readable). */
export const ASN1_STRFLGS_ESC_MSB = 0x4n;
/** `MBSTRING_ASC` (asn1.h). */
export const MBSTRING_ASC = 0x1001;

// ssl.h: more SSL_ctrl commands
/** `SSL_CTRL_SET_SESS_CACHE_MODE` (ssl.h): `SSL_CTX_set_session_cache_mode`. */
export const SSL_CTRL_SET_SESS_CACHE_MODE = 44;
/** `SSL_CTRL_CHAIN_CERT` (ssl.h): `SSL_CTX_add1_chain_cert` with larg 1. */
export const SSL_CTRL_CHAIN_CERT = 89;
/** `SSL_CTRL_SET_GROUPS_LIST` (ssl.h): `SSL_CTX_set1_groups_list`. */
export const SSL_CTRL_SET_GROUPS_LIST = 92;
/** `SSL_CTRL_SET_DH_AUTO` (ssl.h): `SSL_CTX_set_dh_auto`. */
export const SSL_CTRL_SET_DH_AUTO = 118;
/** `SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB` (ssl.h): `SSL_CTX_set_tlsext_status_cb`. */
export const SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB = 63;
/** `SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE` (ssl.h): `SSL_CTX_set_tlsext_status_type`. */
export const SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE = 65;
/** `SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP` (ssl.h): `SSL_get_tlsext_status_ocsp_resp`. */
export const SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP = 70;
/** `SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP` (ssl.h): `SSL_set_tlsext_status_ocsp_resp`. */
export const SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP = 71;
/** `TLSEXT_STATUSTYPE_ocsp` (tls1.h). */
export const TLSEXT_STATUSTYPE_ocsp = 1;
/** `SSL_CTRL_SET_VERIFY_CERT_STORE` (ssl.h): `SSL_set1_verify_cert_store` with larg 1. */
export const SSL_CTRL_SET_VERIFY_CERT_STORE = 106;
/** `SSL_SESS_CACHE_CLIENT` (ssl.h). */
export const SSL_SESS_CACHE_CLIENT = 0x0001;
/** `SSL_SESS_CACHE_NO_INTERNAL_STORE` (ssl.h). */
export const SSL_SESS_CACHE_NO_INTERNAL_STORE = 0x0200;

// tls1.h: servername / ALPN callback results
/** `SSL_TLSEXT_ERR_OK` (tls1.h). */
export const SSL_TLSEXT_ERR_OK = 0;
/** `SSL_TLSEXT_ERR_ALERT_FATAL` (tls1.h). */
export const SSL_TLSEXT_ERR_ALERT_FATAL = 2;
/** `SSL_TLSEXT_ERR_NOACK` (tls1.h). */
export const SSL_TLSEXT_ERR_NOACK = 3;
/** `SSL_AD_INTERNAL_ERROR` (ssl.h): the internal_error alert. */
export const SSL_AD_INTERNAL_ERROR = 80;
/** `SSL_AD_HANDSHAKE_FAILURE` (ssl.h): the handshake_failure alert. */
export const SSL_AD_HANDSHAKE_FAILURE = 40;
/** `SSL_AD_UNRECOGNIZED_NAME` (ssl.h): the unrecognized_name alert (SNI). */
export const SSL_AD_UNRECOGNIZED_NAME = 112;

// ssl.h: options (uint64_t)
/** `SSL_OP_ALL` (ssl.h): harmless bug workarounds. */
export const SSL_OP_ALL = 0x80000850n;
/** `SSL_OP_LEGACY_SERVER_CONNECT` (ssl.h). */
export const SSL_OP_LEGACY_SERVER_CONNECT = 1n << 2n;
/** `SSL_OP_IGNORE_UNEXPECTED_EOF` (ssl.h): treat a missing close_notify as a clean end (unsafe). */
export const SSL_OP_IGNORE_UNEXPECTED_EOF = 1n << 7n;
/** `SSL_OP_ALLOW_CLIENT_RENEGOTIATION` (ssl.h). */
export const SSL_OP_ALLOW_CLIENT_RENEGOTIATION = 1n << 8n;
/** `SSL_OP_NO_TICKET` (ssl.h). */
export const SSL_OP_NO_TICKET = 1n << 14n;
/** `SSL_OP_NO_COMPRESSION` (ssl.h). */
export const SSL_OP_NO_COMPRESSION = 1n << 17n;
/** `SSL_OP_ENABLE_MIDDLEBOX_COMPAT` (ssl.h). */
export const SSL_OP_ENABLE_MIDDLEBOX_COMPAT = 1n << 20n;
/** `SSL_OP_PRIORITIZE_CHACHA` (ssl.h). */
export const SSL_OP_PRIORITIZE_CHACHA = 1n << 21n;
/** `SSL_OP_CIPHER_SERVER_PREFERENCE` (ssl.h). */
export const SSL_OP_CIPHER_SERVER_PREFERENCE = 1n << 22n;
/** `SSL_OP_NO_SSLv3` (ssl.h). */
export const SSL_OP_NO_SSLv3 = 1n << 25n;
/** `SSL_OP_NO_TLSv1` (ssl.h). */
export const SSL_OP_NO_TLSv1 = 1n << 26n;
/** `SSL_OP_NO_TLSv1_2` (ssl.h). */
export const SSL_OP_NO_TLSv1_2 = 1n << 27n;
/** `SSL_OP_NO_TLSv1_1` (ssl.h). */
export const SSL_OP_NO_TLSv1_1 = 1n << 28n;
/** `SSL_OP_NO_TLSv1_3` (ssl.h). */
export const SSL_OP_NO_TLSv1_3 = 1n << 29n;
/** `SSL_OP_NO_RENEGOTIATION` (ssl.h). */
export const SSL_OP_NO_RENEGOTIATION = 1n << 30n;

// x509_vfy.h: verification results the module names
/** `X509_V_ERR_CERT_NOT_YET_VALID` (x509_vfy.h). */
export const X509_V_ERR_CERT_NOT_YET_VALID = 9;
/** `X509_V_ERR_CERT_HAS_EXPIRED` (x509_vfy.h). */
export const X509_V_ERR_CERT_HAS_EXPIRED = 10;
/** `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT` (x509_vfy.h). */
export const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18;
/** `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY` (x509_vfy.h). */
export const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20;
/** `X509_V_ERR_APPLICATION_VERIFICATION` (x509_vfy.h): a verify callback said no. */
export const X509_V_ERR_APPLICATION_VERIFICATION = 50;
/** `X509_V_ERR_HOSTNAME_MISMATCH` (x509_vfy.h). */
export const X509_V_ERR_HOSTNAME_MISMATCH = 62;
/** `X509_V_ERR_IP_ADDRESS_MISMATCH` (x509_vfy.h). */
export const X509_V_ERR_IP_ADDRESS_MISMATCH = 64;

// sslerr.h: ALPN
/** `SSL_R_NO_APPLICATION_PROTOCOL` (sslerr.h): our ALPN callback found no protocol in common. */
export const SSL_R_NO_APPLICATION_PROTOCOL = 235;
/** `SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL` (sslerr.h): the peer's no_application_protocol alert. */
export const SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL = 1120;

/** `SSL_CTRL_SET_TLSEXT_SERVERNAME_CB` (ssl.h): `SSL_CTX_set_tlsext_servername_callback`. */
export const SSL_CTRL_SET_TLSEXT_SERVERNAME_CB = 53;

/** `SSL_CTRL_GET_TLSEXT_TICKET_KEYS` (ssl.h): `SSL_CTX_get_tlsext_ticket_keys`. */
export const SSL_CTRL_GET_TLSEXT_TICKET_KEYS = 58;
/** `SSL_CTRL_SET_TLSEXT_TICKET_KEYS` (ssl.h): `SSL_CTX_set_tlsext_ticket_keys`. */
export const SSL_CTRL_SET_TLSEXT_TICKET_KEYS = 59;
/** `SSL_SESS_CACHE_OFF` (ssl.h). */
export const SSL_SESS_CACHE_OFF = 0x0000;
/** `SSL_SESS_CACHE_SERVER` (ssl.h). */
export const SSL_SESS_CACHE_SERVER = 0x0002;
/** `SSL_CTRL_SET_MSG_CALLBACK_ARG` (ssl.h): `SSL_CTX_set_msg_callback_arg`. */
export const SSL_CTRL_SET_MSG_CALLBACK_ARG = 16;
/** `SSL_KEY_UPDATE_NOT_REQUESTED` (ssl.h). */
export const SSL_KEY_UPDATE_NOT_REQUESTED = 0;
/** `SSL_KEY_UPDATE_REQUESTED` (ssl.h). */
export const SSL_KEY_UPDATE_REQUESTED = 1;

/** `X509_V_FLAG_CRL_CHECK`: check the leaf's CRL (x509_vfy.h). */
export const X509_V_FLAG_CRL_CHECK = 0x4n;
/** `X509_V_FLAG_CRL_CHECK_ALL`: with `X509_V_FLAG_CRL_CHECK`, every certificate's in the chain. */
export const X509_V_FLAG_CRL_CHECK_ALL = 0x8n;
