<!doctype html>
<html lang="tr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${self.title()} · Staj Asistanı İnceleme</title>
<link rel="stylesheet" href="/static/review.css">
</head>
<body>
<header>
  <strong>Staj Asistanı · Konuşma İnceleme</strong>
  % if staff:
  <nav>
    <a href="/conversations">Konuşmalar</a>
    <a href="/misunderstood">Anlaşılamayanlar</a>
    <a href="/dashboard">Pano</a>
    <a href="/export/nlu.yml" id="export-nlu">NLU düzeltmelerini indir</a>
    <span class="who">${staff.username} (${"yönetici" if staff.is_admin else "inceleyici"})</span>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="csrf" value="${csrf}">
      <button type="submit">Çıkış</button>
    </form>
  </nav>
  % endif
</header>
<main>
${self.body()}
</main>
</body>
</html>
<%def name="title()">Staj Asistanı</%def>
