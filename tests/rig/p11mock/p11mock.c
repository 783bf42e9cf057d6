/* p11mock.so: a PKCS#11 module with one token, "mock", for the token's answers SoftHSM2
 * never gives (it never locks a PIN) or gives only when broken: bb-eid loads it through a
 * pkcs11: URI's module-path (tests/0750-eid-pkcs11.t). P11MOCK in the environment says
 * what it does:
 *   locked        the token says its user PIN is locked (CKF_USER_PIN_LOCKED)
 *   login-locked  C_Login answers CKR_PIN_LOCKED
 *   final-try     C_Login answers CKR_PIN_INCORRECT, then the token says CKF_USER_PIN_FINAL_TRY
 *   always        the key wants the PIN for every signature (CKA_ALWAYS_AUTHENTICATE)
 *   gone          the token is removed when asked to sign (CKR_DEVICE_REMOVED)
 * Otherwise it logs in with any PIN and finds one EC key that may sign. */
#include <p11-kit/pkcs11.h>
#include <stdlib.h>
#include <string.h>

static int
mode(const char *m)
{
	const char *v = getenv("P11MOCK");

	return v != NULL && strcmp(v, m) == 0;
}

static int final_try;

static void
pad(CK_UTF8CHAR *dst, size_t n, const char *s)
{
	memset(dst, ' ', n);
	memcpy(dst, s, strlen(s));
}

static CK_RV
mock_initialize(CK_VOID_PTR args)
{
	(void)args;
	return CKR_OK;
}

static CK_RV
mock_finalize(CK_VOID_PTR reserved)
{
	(void)reserved;
	return CKR_OK;
}

static CK_RV
mock_get_info(CK_INFO_PTR info)
{
	memset(info, 0, sizeof *info);
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	pad(info->manufacturerID, sizeof info->manufacturerID, "bb tests");
	pad(info->libraryDescription, sizeof info->libraryDescription, "p11mock");
	return CKR_OK;
}

static CK_RV
mock_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
	(void)present;
	if (list != NULL) {
		if (*n < 1) {
			*n = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		list[0] = 7;
	}
	*n = 1;
	return CKR_OK;
}

static CK_RV
mock_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	if (slot != 7)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, sizeof *info);
	pad(info->slotDescription, sizeof info->slotDescription, "p11mock slot");
	pad(info->manufacturerID, sizeof info->manufacturerID, "bb tests");
	info->flags = CKF_TOKEN_PRESENT;
	return CKR_OK;
}

static CK_RV
mock_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	if (slot != 7)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, sizeof *info);
	pad(info->label, sizeof info->label, "mock");
	pad(info->manufacturerID, sizeof info->manufacturerID, "bb tests");
	pad(info->model, sizeof info->model, "p11mock");
	pad(info->serialNumber, sizeof info->serialNumber, "1");
	info->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED;
	if (mode("locked"))
		info->flags |= CKF_USER_PIN_LOCKED;
	if (final_try)
		info->flags |= CKF_USER_PIN_FINAL_TRY;
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulMaxPinLen = 64;
	info->ulMinPinLen = 4;
	return CKR_OK;
}

static CK_RV
mock_get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	if (slot != 7)
		return CKR_SLOT_ID_INVALID;
	if (type != CKM_ECDSA)
		return CKR_MECHANISM_INVALID;
	info->ulMinKeySize = 256;
	info->ulMaxKeySize = 256;
	info->flags = CKF_SIGN;
	return CKR_OK;
}

static CK_RV
mock_open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
    CK_SESSION_HANDLE_PTR session)
{
	(void)flags;
	(void)app;
	(void)notify;
	if (slot != 7)
		return CKR_SLOT_ID_INVALID;
	*session = 1;
	return CKR_OK;
}

static CK_RV
mock_close_session(CK_SESSION_HANDLE session)
{
	(void)session;
	return CKR_OK;
}

static CK_RV
mock_close_all_sessions(CK_SLOT_ID slot)
{
	(void)slot;
	return CKR_OK;
}

static CK_RV
mock_login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	(void)session;
	(void)user;
	(void)pin;
	(void)len;
	if (mode("login-locked"))
		return CKR_PIN_LOCKED;
	if (mode("final-try")) {
		final_try = 1;
		return CKR_PIN_INCORRECT;
	}
	return CKR_OK;
}

static CK_RV
mock_logout(CK_SESSION_HANDLE session)
{
	(void)session;
	return CKR_OK;
}

static int found;

static CK_RV
mock_find_objects_init(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	(void)session;
	(void)tmpl;
	(void)n;
	found = 0;
	return CKR_OK;
}

static CK_RV
mock_find_objects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objs, CK_ULONG max,
    CK_ULONG_PTR n)
{
	(void)session;
	*n = 0;
	if (!found && max > 0) {
		objs[0] = 42;
		*n = 1;
		found = 1;
	}
	return CKR_OK;
}

static CK_RV
mock_find_objects_final(CK_SESSION_HANDLE session)
{
	(void)session;
	return CKR_OK;
}

static CK_RV
mock_get_attribute_value(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
    CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
	CK_KEY_TYPE ec = CKK_EC;
	CK_BBOOL yes = CK_TRUE, always = mode("always") ? CK_TRUE : CK_FALSE;
	CK_RV rv = CKR_OK;
	CK_ULONG i;

	(void)session;
	if (obj != 42)
		return CKR_OBJECT_HANDLE_INVALID;
	for (i = 0; i < n; i++) {
		const void *v;
		CK_ULONG len;

		if (a[i].type == CKA_KEY_TYPE) {
			v = &ec;
			len = sizeof ec;
		} else if (a[i].type == CKA_SIGN) {
			v = &yes;
			len = sizeof yes;
		} else if (a[i].type == CKA_ALWAYS_AUTHENTICATE) {
			v = &always;
			len = sizeof always;
		} else {
			a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
			continue;
		}
		if (a[i].pValue != NULL && a[i].ulValueLen >= len)
			memcpy(a[i].pValue, v, len);
		a[i].ulValueLen = len;
	}
	return rv;
}

static CK_RV
mock_sign_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	(void)session;
	if (key != 42 || mech->mechanism != CKM_ECDSA)
		return CKR_KEY_HANDLE_INVALID;
	return CKR_OK;
}

static CK_RV
mock_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
    CK_ULONG_PTR siglen)
{
	(void)session;
	(void)data;
	(void)len;
	if (mode("gone"))
		return CKR_DEVICE_REMOVED;
	/* A signature of no key: the terminal's check before the card refuses it. */
	if (sig != NULL && *siglen >= 64)
		memset(sig, 0x5A, 64);
	*siglen = 64;
	return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST functions = {
	.version = { 2, 40 },
	.C_GetFunctionList = C_GetFunctionList,
	.C_Initialize = mock_initialize,
	.C_Finalize = mock_finalize,
	.C_GetInfo = mock_get_info,
	.C_GetSlotList = mock_get_slot_list,
	.C_GetSlotInfo = mock_get_slot_info,
	.C_GetTokenInfo = mock_get_token_info,
	.C_GetMechanismInfo = mock_get_mechanism_info,
	.C_OpenSession = mock_open_session,
	.C_CloseSession = mock_close_session,
	.C_CloseAllSessions = mock_close_all_sessions,
	.C_Login = mock_login,
	.C_Logout = mock_logout,
	.C_FindObjectsInit = mock_find_objects_init,
	.C_FindObjects = mock_find_objects,
	.C_FindObjectsFinal = mock_find_objects_final,
	.C_GetAttributeValue = mock_get_attribute_value,
	.C_SignInit = mock_sign_init,
	.C_Sign = mock_sign,
};

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	*list = &functions;
	return CKR_OK;
}
