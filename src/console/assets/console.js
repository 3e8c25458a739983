// hookflow console: the only script. Shows <time datetime="..."> values in the browser's own time zone.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var date = new Date(el.getAttribute('datetime'));
    if (!isNaN(date.getTime())) {
      el.title = el.getAttribute('datetime');
      el.textContent = format.format(date);
    }
  });
});
