<%def name="correction_form(message_id, current, topics, csrf, next_url)">
<form method="post" action="/messages/${message_id}/correction" class="correct">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next_url}">
  <select name="topic" aria-label="Doğru niyet veya SSS konusu">
    % for topic in topics:
    <option value="${topic.name}" ${'selected' if topic.name == current else ''}>${topic.name} — ${topic.label}</option>
    % endfor
  </select>
  <button type="submit">${"Onayla / düzelt"}</button>
</form>
</%def>
