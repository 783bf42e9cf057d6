"""answers.py: where a case's answers are and how a person types them, shared by the two
people of the rig that answer bb-form ask pages (ask_http.py over HTTP, ask_drive.py in
the browser): value_at(fields, "a.0.b") finds a field's value in a case's form.fields;
as_typed(value, kbd) is what a person enters for it (dates as DD.MM.YYYY, yes/no)."""


def value_at(fields, path):
	v = fields
	for part in path.split("."):
		if isinstance(v, list):
			i = int(part)
			v = v[i] if i < len(v) else None
		elif isinstance(v, dict):
			v = v.get(part)
		else:
			return None
		if v is None:
			return None
	return v


def as_typed(v, kbd):
	if v is None:
		return ""
	if isinstance(v, bool):
		return "yes" if v else "no"
	if isinstance(v, (int, float)):
		return "%g" % v
	if kbd == "date" and len(v) == 10 and v[4] == "-":
		return "%s.%s.%s" % (v[8:10], v[5:7], v[0:4])
	return str(v)
